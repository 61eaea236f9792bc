//! Every process `serve --exec` starts, and reaping them all.
//!
//! `serve` is the child subreaper of its commands: a process whose parent
//! dies is handed to `serve`, wherever it moved (`setsid`), never to PID 1.
//! So every process a command leaves is a descendant of `serve`, found by
//! walking `/proc`, and its zombie is ours to reap. The `sh` of each running
//! command is registered while it runs: its job reads its exit status;
//! every other child of `serve` is an orphan, reaped by the sweep.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io;
use std::process::{Child, Command};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use rustix::process::{
    Pid, PidfdFlags, Signal, WaitId, WaitIdOptions, kill_process, pidfd_open, pidfd_send_signal,
    waitid,
};

/// The commands' `sh` processes, and the orphans they leave.
#[derive(Debug)]
pub struct Family {
    /// Pids of the `sh` of running commands, reaped by their jobs only.
    /// Held while spawning, sweeping and killing: a pid seen as an orphan
    /// stays ours (unreaped) until the lock is released.
    commands: Mutex<HashSet<i32>>,
    me: i32,
}

impl Family {
    /// Makes this process the reaper of its commands' orphans and starts a
    /// thread that reaps them as they die.
    pub fn new() -> io::Result<Arc<Family>> {
        // The argument is a flag: any pid sets it (`None` would clear it).
        rustix::process::set_child_subreaper(Some(Pid::INIT))?;
        let family = Arc::new(Family {
            commands: Mutex::new(HashSet::new()),
            me: rustix::process::getpid().as_raw_nonzero().get(),
        });
        let weak = Arc::downgrade(&family);
        std::thread::Builder::new()
            .name("pssst-reaper".into())
            .spawn(move || reap_while_alive(&weak))?;
        Ok(family)
    }

    /// Starts a command's `sh`, registered as such.
    pub fn spawn(&self, command: &mut Command) -> io::Result<Child> {
        let mut commands = self.lock();
        let child = command.spawn()?;
        commands.insert(raw(Pid::from_child(&child)));
        Ok(child)
    }

    /// Reaps a command's `sh` (killed or exited) and forgets it.
    pub fn release(&self, sh: Pid) {
        let give_up = Instant::now() + REAP_PATIENCE;
        let reap = WaitIdOptions::EXITED | WaitIdOptions::NOHANG;
        let mut commands = self.lock();
        while let Ok(None) = waitid(WaitId::Pid(sh), reap) {
            if Instant::now() > give_up {
                // Stuck in the kernel: the sweep reaps it later.
                break;
            }
            drop(commands);
            std::thread::sleep(Duration::from_millis(1));
            commands = self.lock();
        }
        commands.remove(&raw(sh));
    }

    /// Kills `sh` and every descendant of it, and every orphan with its
    /// descendants, and reaps them: what is left of a command where there
    /// is no cgroup. Orphans have lost their place in the tree and cannot
    /// be told apart: those of another command still running die too.
    /// Repeated until nothing is left alive (a process may fork meanwhile).
    pub fn kill_tree(&self, sh: Pid) {
        // Its process group first: one atomic signal for the common case.
        let _ = rustix::process::kill_process_group(sh, Signal::KILL);
        self.kill_all_but_commands(Some(raw(sh)));
    }

    /// At shutdown: kills every descendant of serve and reaps them.
    pub fn kill_everything(&self) {
        // Commands still running become orphans like any other.
        self.lock().clear();
        self.kill_all_but_commands(None);
        while let Ok(Some(_)) = waitid(WaitId::All, WaitIdOptions::EXITED | WaitIdOptions::NOHANG) {
        }
    }

    fn kill_all_but_commands(&self, also: Option<i32>) {
        let give_up = Instant::now() + REAP_PATIENCE;
        loop {
            let table = ProcessTable::read();
            let commands = self.lock();
            let mut roots = table.orphans(self.me, &commands);
            roots.extend(also);
            let alive = table.alive_descendants(&roots);
            for process in &alive {
                process.kill(table.is_child(process.pid, self.me));
            }
            self.reap_orphans_locked(&table, &commands);
            drop(commands);
            if alive.is_empty() || Instant::now() > give_up {
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Reaps every orphan that has exited.
    pub fn reap_orphans(&self) {
        let peek = WaitIdOptions::EXITED | WaitIdOptions::NOHANG | WaitIdOptions::NOWAIT;
        if !matches!(waitid(WaitId::All, peek), Ok(Some(_))) {
            // No child of serve is a zombie: nothing to read /proc for.
            return;
        }
        let table = ProcessTable::read();
        self.reap_orphans_locked(&table, &self.lock());
    }

    fn reap_orphans_locked(&self, table: &ProcessTable, commands: &HashSet<i32>) {
        let reap = WaitIdOptions::EXITED | WaitIdOptions::NOHANG;
        for pid in table.orphans(self.me, commands) {
            if let Some(pid) = Pid::from_raw(pid) {
                let _ = waitid(WaitId::Pid(pid), reap);
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashSet<i32>> {
        self.commands
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The reaper thread: whenever some child of serve is a zombie, sweep.
fn reap_while_alive(family: &Weak<Family>) {
    while let Some(family) = family.upgrade() {
        family.reap_orphans();
        drop(family);
        std::thread::sleep(SWEEP_INTERVAL);
    }
}

fn raw(pid: Pid) -> i32 {
    pid.as_raw_nonzero().get()
}

/// A snapshot of `/proc`: every process visible to serve.
struct ProcessTable(HashMap<i32, Process>);

#[derive(Debug, Clone, Copy)]
struct Process {
    pid: i32,
    parent: i32,
    zombie: bool,
    /// Clock ticks after boot (field 22 of `stat`): with the pid, it names
    /// one process for ever.
    started: u64,
}

impl ProcessTable {
    fn read() -> ProcessTable {
        let mut table = HashMap::new();
        let Ok(entries) = fs::read_dir("/proc") else {
            return ProcessTable(table);
        };
        for entry in entries.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
                continue;
            };
            if let Some(process) = Process::read(pid) {
                table.insert(pid, process);
            }
        }
        ProcessTable(table)
    }

    fn is_child(&self, pid: i32, parent: i32) -> bool {
        self.0.get(&pid).is_some_and(|p| p.parent == parent)
    }

    /// Children of `me` that are not a command's `sh`.
    fn orphans(&self, me: i32, commands: &HashSet<i32>) -> Vec<i32> {
        self.0
            .values()
            .filter(|p| p.parent == me && !commands.contains(&p.pid))
            .map(|p| p.pid)
            .collect()
    }

    /// `roots` and all their descendants that are not zombies.
    fn alive_descendants(&self, roots: &[i32]) -> Vec<Process> {
        let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
        for p in self.0.values() {
            children.entry(p.parent).or_default().push(p.pid);
        }
        let mut found = Vec::new();
        let mut next: Vec<i32> = roots.to_vec();
        let mut seen = HashSet::new();
        while let Some(pid) = next.pop() {
            if !seen.insert(pid) {
                continue;
            }
            if let Some(process) = self.0.get(&pid).filter(|p| !p.zombie) {
                found.push(*process);
            }
            next.extend(children.get(&pid).into_iter().flatten());
        }
        found
    }
}

impl Process {
    fn read(pid: i32) -> Option<Process> {
        let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // The command name may hold anything, parentheses too: the fields
        // start after the last ')'.
        let fields: Vec<&str> = stat.get(stat.rfind(')')? + 2..)?.split(' ').collect();
        Some(Process {
            pid,
            zombie: *fields.first()? == "Z",
            parent: fields.get(1)?.parse().ok()?,
            started: fields.get(19)?.parse().ok()?,
        })
    }

    /// SIGKILL. A child of serve cannot be reaped (its pid reused) while
    /// the family is locked; any other process is checked to be the same
    /// one through a pidfd before the signal.
    fn kill(&self, is_our_child: bool) {
        let Some(pid) = Pid::from_raw(self.pid) else {
            return;
        };
        if is_our_child {
            let _ = kill_process(pid, Signal::KILL);
            return;
        }
        let Ok(pidfd) = pidfd_open(pid, PidfdFlags::empty()) else {
            return;
        };
        if Process::read(self.pid).is_some_and(|now| now.started == self.started) {
            let _ = pidfd_send_signal(&pidfd, Signal::KILL);
        }
    }
}

/// How long a kill may take to leave no process alive.
const REAP_PATIENCE: Duration = Duration::from_secs(2);

/// How often the reaper thread looks for dead orphans.
const SWEEP_INTERVAL: Duration = Duration::from_millis(250);
