//! `pssst`: keys, a stateless UDP server, a retrying client, a load
//! generator, the interop line protocol, and a demo of it all. This file
//! is the command line's top level; each command lives in a module of its
//! own.

use std::io;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use pssst_core::CipherSuite;

mod addr;
mod args;
mod bench;
mod client;
mod compat;
mod demo;
mod exec;
mod forward;
mod keys;
mod load;
mod peer;
mod send;
mod serve;
mod stdout;

/// PSSST (Packet Security for Stateless Server Transactions) over UDP.
#[derive(Debug, Parser)]
#[command(name = "pssst", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write a new private key file (hex, mode 0600) and print its public key
    Keygen {
        /// The private key file to create
        file: PathBuf,
        /// Replace the file if it exists
        #[arg(long)]
        force: bool,
    },
    /// Print the public key of a private key file (hex, or PEM PKCS#8 X25519)
    Pubkey {
        /// The private key file
        file: PathBuf,
    },
    /// Run a server: echo, or answer each request with a command's output
    Serve(Box<serve::ServeArgs>),
    /// Send one request and print the reply
    Send(send::SendArgs),
    /// Load-test a server: throughput and latency percentiles
    Bench(bench::BenchArgs),
    /// Speak the interop line protocol on stdin/stdout (TAG:hex lines)
    Compat {
        /// Use only this cipher suite, as client and server (default: suite-1
        /// clients, a server of every suite)
        #[arg(long, value_parser = args::suite)]
        suite: Option<CipherSuite>,
    },
    /// Start servers on loopback, run every kind of client and junk against
    /// them, verify everything, print a summary
    Demo,
    /// Print a shell completion script (e.g. `pssst completions bash >
    /// /etc/bash_completion.d/pssst`)
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff; e.g. `pssst man > pssst.1; man -l pssst.1`)
    Man,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return args::exit_on_parse_error(&e),
    };
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<(), String> {
    match command {
        Command::Keygen { file, force } => keys::keygen(&file, force),
        Command::Pubkey { file } => keys::pubkey(&file),
        Command::Serve(args) => serve::run(*args),
        Command::Send(args) => send::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Compat { suite } => compat::run(io::stdin().lock(), io::stdout().lock(), suite),
        Command::Demo => demo::run(),
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "pssst", &mut io::stdout().lock());
            Ok(())
        }
        Command::Man => {
            let mut page = Vec::new();
            clap_mangen::Man::new(<Cli as clap::CommandFactory>::command())
                .render(&mut page)
                .map_err(|e| format!("rendering the manual page: {e}"))?;
            stdout::bytes(&page)
        }
    }
}
