//! One anonymous and one client-authenticated transaction with fresh keys.

use pssst_core::{Client, Server, generate_key_pair};

fn main() -> Result<(), pssst_core::Error> {
    let (server_private, server_public) = generate_key_pair()?;
    let (client_private, client_public) = generate_key_pair()?;
    let server = Server::new(server_private);
    println!("server key {server_public}");

    for client in [
        Client::new(server_public)?,
        Client::with_client_auth(server_public, &client_private)?,
    ] {
        let (request, mut reply_handler) = client.pack_request(b"hello")?;
        let incoming = server.unpack_request(&request)?;
        let reply = incoming.reply_handler.pack_reply(&incoming.message)?;
        let echoed = reply_handler.unpack_reply(&reply)?;
        assert_eq!(echoed, b"hello");
        assert_eq!(
            incoming.client_public_key,
            client.client_public_key(),
            "the server learns exactly the client's key"
        );
        let mode = match incoming.client_public_key {
            Some(key) if key == client_public => "client-auth",
            _ => "anonymous",
        };
        println!(
            "{mode:>11}: request {} B, reply {} B, verified",
            request.len(),
            reply.len()
        );
    }
    Ok(())
}
