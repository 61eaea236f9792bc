//! Every process `serve --exec` starts, and reaping them all.
//!
//! `serve` is the child subreaper of its commands: a process whose parent
//! dies is handed to `serve`, wherever it moved (`setsid`), never to PID 1.
//! So every process a command leaves is a descendant of `serve`, found
//! through `/proc`, and its zombie is ours to reap. The `sh` of each running
//! command is registered while it runs: its job reads its exit status and
//! kills what descends from it. Every other child of `serve` is an orphan
//! (its parent died): the sweep, a thread, reaps them, and kills them (with
//! their descendants) where there is no cgroup to do so.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io;
use std::path::Path;
use std::process::{Child, Command};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, Weak};
use std::time::{Duration, Instant};

use rustix::process::{
    Pid, PidfdFlags, Signal, WaitId, WaitIdOptions, pidfd_open, pidfd_send_signal, waitid,
};

/// The commands' `sh` processes, and the orphans they leave.
#[derive(Debug)]
pub struct Family {
    /// Pids of the `sh` of running commands, reaped by their jobs only.
    commands: Mutex<HashSet<i32>>,
    /// Read-held while a command starts and until it is registered (they
    /// start in parallel), write-held by the sweep: a new `sh` is never
    /// taken for an orphan, and an orphan stays unreaped (its pid its own)
    /// while the sweep acts on it.
    starting: RwLock<()>,
    /// Whether the sweep kills orphans (no cgroup kills them).
    kill_orphans: bool,
    me: i32,
}

impl Family {
    /// Makes this process the reaper of its commands' orphans and starts
    /// the sweep.
    pub fn new(kill_orphans: bool) -> io::Result<Arc<Family>> {
        // The argument is a flag: any pid sets it (`None` would clear it).
        rustix::process::set_child_subreaper(Some(Pid::INIT))?;
        let family = Arc::new(Family {
            commands: Mutex::new(HashSet::new()),
            starting: RwLock::new(()),
            kill_orphans,
            me: raw(rustix::process::getpid()),
        });
        let weak = Arc::downgrade(&family);
        std::thread::Builder::new()
            .name("pssst-reaper".into())
            .spawn(move || sweep_while_alive(&weak))?;
        Ok(family)
    }

    /// Starts a command's `sh`, registered as such.
    pub fn spawn(&self, command: &mut Command) -> io::Result<Child> {
        let _starting = self.starting.read().unwrap_or_else(|p| p.into_inner());
        let child = command.spawn()?;
        self.lock().insert(raw(Pid::from_child(&child)));
        Ok(child)
    }

    /// Reaps a command's `sh` (killed or exited) and forgets it.
    pub fn release(&self, sh: Pid) {
        let give_up = Instant::now() + REAP_PATIENCE;
        let reap = WaitIdOptions::EXITED | WaitIdOptions::NOHANG;
        while let Ok(None) = waitid(WaitId::Pid(sh), reap) {
            if Instant::now() > give_up {
                // Stuck in the kernel: the sweep reaps it later.
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        self.lock().remove(&raw(sh));
    }

    /// Kills a command's process group, and `sh` with every descendant of
    /// it wherever it moved, until none is left alive (one may fork
    /// meanwhile): what is left of a command where there is no cgroup.
    /// What it orphaned before (whose parent died) is the sweep's.
    pub fn kill_tree(&self, sh: Pid) {
        // Its process group first: one atomic signal for the common case.
        let _ = rustix::process::kill_process_group(sh, Signal::KILL);
        let give_up = Instant::now() + REAP_PATIENCE;
        loop {
            let alive = ProcessTable::read(raw(sh)).alive_descendants(&[raw(sh)]);
            alive.iter().for_each(Process::kill);
            if alive.is_empty() || Instant::now() > give_up {
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// At shutdown: kills every descendant of serve and reaps them.
    pub fn kill_everything(&self) {
        // Commands still running become orphans like any other.
        self.lock().clear();
        let give_up = Instant::now() + REAP_PATIENCE;
        while self.sweep(true) > 0 && Instant::now() < give_up {
            std::thread::sleep(Duration::from_millis(1));
        }
        while let Ok(Some(_)) = waitid(WaitId::All, WaitIdOptions::EXITED | WaitIdOptions::NOHANG) {
        }
    }

    /// Reaps the orphans that exited, and kills the others (and their
    /// descendants) if `kill`. Orphans have lost their place in the tree:
    /// those of a command still running die too. The processes found alive.
    fn sweep(&self, kill: bool) -> usize {
        let me = self.me;
        // Cheap first look, without stopping commands from starting.
        if ProcessTable::read(me).orphans(me, &self.lock()).is_empty() {
            return 0;
        }
        let _quiet = self.starting.write().unwrap_or_else(|p| p.into_inner());
        let table = ProcessTable::read(me);
        let orphans = table.orphans(me, &self.lock());
        let alive = table.alive_descendants(&orphans);
        if kill {
            alive.iter().for_each(Process::kill);
        }
        let reap = WaitIdOptions::EXITED | WaitIdOptions::NOHANG;
        for pid in orphans.into_iter().filter_map(Pid::from_raw) {
            let _ = waitid(WaitId::Pid(pid), reap);
        }
        alive.len()
    }

    fn lock(&self) -> MutexGuard<'_, HashSet<i32>> {
        self.commands
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The sweep's thread, while serve runs.
fn sweep_while_alive(family: &Weak<Family>) {
    while let Some(family) = family.upgrade() {
        family.sweep(family.kill_orphans);
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
    /// `root` and its descendants, from each thread's `children` file: the
    /// cost grows with serve's own processes, not the host's. Without those
    /// files (kernels built without CONFIG_PROC_CHILDREN), all of `/proc`.
    fn read(root: i32) -> ProcessTable {
        if !Path::new("/proc/thread-self/children").exists() {
            return ProcessTable::read_all();
        }
        let mut table = HashMap::new();
        table.extend(Process::read(root).map(|p| (root, p)));
        let mut next = vec![root];
        while let Some(parent) = next.pop() {
            for pid in children_of(parent) {
                if let Some(process) = Process::read(pid)
                    && table.insert(pid, process).is_none()
                {
                    next.push(pid);
                }
            }
        }
        ProcessTable(table)
    }

    fn read_all() -> ProcessTable {
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
        Process::parse(pid, &fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
    }

    fn parse(pid: i32, stat: &str) -> Option<Process> {
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

    /// SIGKILL, through a pidfd checked to be this very process (its pid
    /// may have been reused since the table was read).
    fn kill(&self) {
        let Some(pidfd) =
            Pid::from_raw(self.pid).and_then(|pid| pidfd_open(pid, PidfdFlags::empty()).ok())
        else {
            return;
        };
        if Process::read(self.pid).is_some_and(|now| now.started == self.started) {
            let _ = pidfd_send_signal(&pidfd, Signal::KILL);
        }
    }
}

/// The children of every thread of `pid` (none if it just exited).
fn children_of(pid: i32) -> Vec<i32> {
    let tasks = fs::read_dir(format!("/proc/{pid}/task")).ok();
    let mut children = Vec::new();
    for task in tasks.into_iter().flatten().flatten() {
        if let Ok(list) = fs::read_to_string(task.path().join("children")) {
            children.extend(
                list.split_whitespace()
                    .filter_map(|p| p.parse::<i32>().ok()),
            );
        }
    }
    children
}

/// How long a kill may take to leave no process alive.
const REAP_PATIENCE: Duration = Duration::from_secs(2);

/// How often the sweep looks for orphans.
const SWEEP_INTERVAL: Duration = Duration::from_millis(250);

#[cfg(test)]
mod tests {
    use super::*;

    fn process(pid: i32, parent: i32, zombie: bool) -> (i32, Process) {
        let started = 7;
        (
            pid,
            Process {
                pid,
                parent,
                zombie,
                started,
            },
        )
    }

    #[test]
    fn stat_lines_parse_whatever_the_command_name() {
        let stat = "42 (a) b) (c) S 7 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 12345 0 0";
        let p = Process::parse(42, stat).unwrap();
        assert_eq!((p.parent, p.zombie, p.started), (7, false, 12345));
        assert!(Process::parse(42, "42 (sh) Z 7").is_none());
    }

    #[test]
    fn orphans_are_children_of_serve_that_are_no_command() {
        // serve 1; sh 2 (a command) with child 3; orphan 4 with child 5 (a
        // zombie) and grandchild 6.
        let table = ProcessTable(HashMap::from([
            process(2, 1, false),
            process(3, 2, false),
            process(4, 1, false),
            process(5, 4, true),
            process(6, 5, false),
        ]));
        let commands = HashSet::from([2]);
        assert_eq!(table.orphans(1, &commands), vec![4]);
        let mut alive: Vec<i32> = table
            .alive_descendants(&[4])
            .iter()
            .map(|p| p.pid)
            .collect();
        alive.sort_unstable();
        assert_eq!(alive, vec![4, 6]);
    }
}
