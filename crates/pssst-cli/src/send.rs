//! `pssst send`: one request, its reply on stdout.

use std::io::{self, Read};

use clap::Args;
use pssst_udp::UdpClient;

use crate::client::{ClientArgs, client_for};
use crate::stdout;

#[derive(Debug, Args)]
pub(crate) struct SendArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// The message (default: read from stdin)
    message: Option<String>,
}

pub(crate) fn run(args: SendArgs) -> Result<(), String> {
    let (server, client, schedule) = client_for(&args.client)?;
    let message = match args.message {
        Some(message) => message.into_bytes(),
        None => {
            let mut message = Vec::new();
            io::stdin()
                .read_to_end(&mut message)
                .map_err(|e| format!("reading stdin: {e}"))?;
            message
        }
    };
    let mut udp = UdpClient::connect(server, client, schedule)
        .map_err(|e| format!("cannot open a socket to {server}: {e}"))?;
    let reply = udp
        .request(&message)
        .map_err(|e| format!("request to {server}: {e}"))?;
    stdout::bytes(&reply)
}
