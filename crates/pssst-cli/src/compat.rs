//! `pssst compat`: the interop line protocol, one `TAG:hex` line each way.
//!
//! Each side prints its `SERVER_KEY`, `CLIENT_KEY` (client-auth public key)
//! and 64 random bytes of `PLAINTEXT`. On the other side's `SERVER_KEY` it
//! sends a `REQUEST` (anonymous) and a `REQUEST_AUTH` (client-authenticated)
//! carrying its own plaintext. On a request it unpacks with its server,
//! checks the message is the other side's plaintext and the authenticated
//! key is the other side's `CLIENT_KEY` (none for anonymous), and answers
//! `REPLY` / `REPLY_AUTH` with the plaintext reversed. On a reply it checks
//! it got its own plaintext reversed. When both its replies check out it
//! prints `DONE:`, and it finishes once it has also seen the other's `DONE`.
//! Lines may come in any order: requests wait until what they are checked
//! against is known.

use std::io::{BufRead, Write};

use pssst_core::{
    CipherSuite, CipherSuites, Client, ClientReplyHandler, PrivateKey, PublicKey, Server,
};

/// Anonymous or client-authenticated: the two transactions of each side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Anonymous,
    Authenticated,
}

impl Kind {
    fn index(self) -> usize {
        self as usize
    }

    fn request_tag(self) -> &'static str {
        match self {
            Kind::Anonymous => "REQUEST",
            Kind::Authenticated => "REQUEST_AUTH",
        }
    }

    fn reply_tag(self) -> &'static str {
        match self {
            Kind::Anonymous => "REPLY",
            Kind::Authenticated => "REPLY_AUTH",
        }
    }
}

/// What we have learnt about the other side.
#[derive(Debug, Default)]
struct Peer {
    server_key: Option<PublicKey>,
    client_key: Option<PublicKey>,
    plaintext: Option<Vec<u8>>,
    done: bool,
}

/// One side of the exchange, without any I/O: lines in, lines out.
#[derive(Debug)]
pub struct Session {
    server: Server,
    /// The one suite of `--suite`, or None: suite-1 clients, any server suite.
    suite: Option<CipherSuite>,
    client_key: PrivateKey,
    plaintext: [u8; 64],
    peer: Peer,
    /// The other side's requests, held until they can be checked.
    pending: [Option<Vec<u8>>; 2],
    answered: [bool; 2],
    /// Our requests' reply handlers.
    handlers: [Option<ClientReplyHandler>; 2],
    verified: [bool; 2],
    done_sent: bool,
}

impl Session {
    /// Fresh keys and plaintext; with a suite, requests are packed and
    /// accepted in that suite only.
    pub fn new(suite: Option<CipherSuite>) -> Result<Session, String> {
        let server_key = pssst_core::generate_key_pair()
            .map(|(key, _)| key)
            .map_err(|e| e.to_string())?;
        let client_key = pssst_core::generate_key_pair()
            .map(|(key, _)| key)
            .map_err(|e| e.to_string())?;
        let mut plaintext = [0u8; 64];
        getrandom::fill(&mut plaintext).map_err(|e| format!("random number generator: {e}"))?;
        let suites = suite.map_or(CipherSuites::ALL, CipherSuites::only);
        Ok(Session {
            server: Server::new(server_key).with_suites(suites),
            suite,
            client_key,
            plaintext,
            peer: Peer::default(),
            pending: [None, None],
            answered: [false; 2],
            handlers: [None, None],
            verified: [false; 2],
            done_sent: false,
        })
    }

    /// The three lines printed at the start.
    pub fn greeting(&self) -> Vec<String> {
        vec![
            line("SERVER_KEY", self.server.public_key().as_bytes()),
            line("CLIENT_KEY", self.client_key.public_key().as_bytes()),
            line("PLAINTEXT", &self.plaintext),
        ]
    }

    /// True once both our replies checked out and the other side is done.
    pub fn finished(&self) -> bool {
        self.done_sent && self.peer.done
    }

    /// Handles one input line; returns the lines to print.
    pub fn on_line(&mut self, input: &str) -> Result<Vec<String>, String> {
        let input = input.trim_end_matches(['\r', '\n']);
        let (tag, hex) = input
            .split_once(':')
            .ok_or_else(|| format!("bad line (no TAG:hex): {input:?}"))?;
        let value = base16ct::mixed::decode_vec(hex.trim())
            .map_err(|_| format!("bad line ({tag}: not hex): {input:?}"))?;
        let mut out = Vec::new();
        match tag {
            "SERVER_KEY" => {
                let key = set_once(&mut self.peer.server_key, tag, public_key(tag, &value)?)?;
                out.extend(self.send_requests(key)?);
            }
            "CLIENT_KEY" => {
                set_once(&mut self.peer.client_key, tag, public_key(tag, &value)?)?;
            }
            "PLAINTEXT" => {
                set_once(&mut self.peer.plaintext, tag, value)?;
            }
            "REQUEST" => self.hold(Kind::Anonymous, value)?,
            "REQUEST_AUTH" => self.hold(Kind::Authenticated, value)?,
            "REPLY" => self.check_reply(Kind::Anonymous, &value)?,
            "REPLY_AUTH" => self.check_reply(Kind::Authenticated, &value)?,
            "DONE" => {
                if self.peer.done {
                    return Err("duplicate DONE".into());
                }
                self.peer.done = true;
            }
            _ => return Err(format!("bad line (unknown tag {tag:?})")),
        }
        out.extend(self.answer_pending()?);
        if self.verified == [true, true] && !self.done_sent {
            self.done_sent = true;
            out.push("DONE:".to_string());
        }
        Ok(out)
    }

    fn send_requests(&mut self, server_key: PublicKey) -> Result<Vec<String>, String> {
        let fail = |e: pssst_core::Error| format!("cannot make requests for SERVER_KEY: {e}");
        let suite = self.suite.unwrap_or_default();
        let anonymous = Client::new(server_key).map_err(fail)?.with_suite(suite);
        let authenticated = Client::with_client_auth(server_key, &self.client_key)
            .map_err(fail)?
            .with_suite(suite);
        let mut out = Vec::new();
        for (kind, client) in [
            (Kind::Anonymous, anonymous),
            (Kind::Authenticated, authenticated),
        ] {
            let (packet, handler) = client.pack_request(&self.plaintext).map_err(fail)?;
            self.handlers[kind.index()] = Some(handler);
            out.push(line(kind.request_tag(), &packet));
        }
        Ok(out)
    }

    fn hold(&mut self, kind: Kind, packet: Vec<u8>) -> Result<(), String> {
        let i = kind.index();
        if self.pending[i].is_some() || self.answered[i] {
            return Err(format!("duplicate {}", kind.request_tag()));
        }
        self.pending[i] = Some(packet);
        Ok(())
    }

    /// Answers the held requests whose checks can now be made.
    fn answer_pending(&mut self) -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        for kind in [Kind::Anonymous, Kind::Authenticated] {
            let Some(expected) = self.peer.plaintext.clone() else {
                break;
            };
            let expected_key = match kind {
                Kind::Anonymous => None,
                Kind::Authenticated => match self.peer.client_key {
                    Some(key) => Some(key),
                    None => continue,
                },
            };
            let Some(packet) = self.pending[kind.index()].take() else {
                continue;
            };
            let tag = kind.request_tag();
            let request = self
                .server
                .unpack_request(&packet)
                .map_err(|e| format!("{tag}: cannot unpack: {e}"))?;
            if request.message != expected {
                return Err(format!("{tag}: message is not the other side's PLAINTEXT"));
            }
            if request.client_public_key != expected_key {
                return Err(match (expected_key, request.client_public_key) {
                    (None, Some(key)) => {
                        format!("{tag}: anonymous request carries client key {key}")
                    }
                    (Some(_), None) => format!("{tag}: no client authentication"),
                    _ => format!("{tag}: client key is not the other side's CLIENT_KEY"),
                });
            }
            let reversed: Vec<u8> = request.message.iter().rev().copied().collect();
            let reply = request
                .reply_handler
                .pack_reply(&reversed)
                .map_err(|e| format!("{tag}: cannot pack the reply: {e}"))?;
            self.answered[kind.index()] = true;
            out.push(line(kind.reply_tag(), &reply));
        }
        Ok(out)
    }

    fn check_reply(&mut self, kind: Kind, packet: &[u8]) -> Result<(), String> {
        let tag = kind.reply_tag();
        let handler = self.handlers[kind.index()]
            .as_mut()
            .ok_or_else(|| format!("{tag} before any request of ours was sent"))?;
        let message = handler
            .unpack_reply(packet)
            .map_err(|e| format!("{tag}: cannot unpack: {e}"))?;
        let expected: Vec<u8> = self.plaintext.iter().rev().copied().collect();
        if message != expected {
            return Err(format!("{tag}: reply is not our PLAINTEXT reversed"));
        }
        self.verified[kind.index()] = true;
        Ok(())
    }
}

fn line(tag: &str, bytes: &[u8]) -> String {
    format!("{tag}:{}", base16ct::lower::encode_string(bytes))
}

fn public_key(tag: &str, bytes: &[u8]) -> Result<PublicKey, String> {
    PublicKey::try_from_slice(bytes)
        .map_err(|_| format!("{tag}: expected 32 bytes, got {}", bytes.len()))
}

fn set_once<T: Clone>(slot: &mut Option<T>, tag: &str, value: T) -> Result<T, String> {
    if slot.is_some() {
        return Err(format!("duplicate {tag}"));
    }
    *slot = Some(value.clone());
    Ok(value)
}

/// Runs one side over `input`/`output`, flushing after every line.
pub fn run(
    input: impl BufRead,
    mut output: impl Write,
    suite: Option<CipherSuite>,
) -> Result<(), String> {
    let mut session = Session::new(suite)?;
    let mut emit = |lines: Vec<String>| -> Result<(), String> {
        for l in lines {
            writeln!(output, "{l}")
                .and_then(|()| output.flush())
                .map_err(|e| format!("writing to stdout: {e}"))?;
        }
        Ok(())
    };
    emit(session.greeting())?;
    for input_line in input.lines() {
        let input_line = input_line.map_err(|e| format!("reading stdin: {e}"))?;
        if input_line.trim().is_empty() {
            continue;
        }
        emit(session.on_line(&input_line)?)?;
        if session.finished() {
            return Ok(());
        }
    }
    Err("end of input before the exchange completed".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Delivers every line of one side to the other until both finish or
    /// one fails; `tamper` may rewrite lines in flight.
    fn exchange(
        tamper: impl FnMut(usize, String) -> String,
    ) -> (Result<(), String>, Result<(), String>) {
        exchange_in([None, None], tamper)
    }

    /// `exchange` between sessions of the given `--suite`s.
    fn exchange_in(
        suites: [Option<CipherSuite>; 2],
        mut tamper: impl FnMut(usize, String) -> String,
    ) -> (Result<(), String>, Result<(), String>) {
        let mut sides = suites.map(|suite| Session::new(suite).unwrap());
        let mut queues: [Vec<String>; 2] = [sides[1].greeting(), sides[0].greeting()];
        let mut results = [Ok(()), Ok(())];
        for _ in 0..100 {
            let mut progress = false;
            for to in 0..2 {
                if results[to].is_err() || sides[to].finished() {
                    continue;
                }
                for l in std::mem::take(&mut queues[to]) {
                    progress = true;
                    match sides[to].on_line(&tamper(to, l)) {
                        Ok(out) => queues[1 - to].extend(out),
                        Err(e) => {
                            results[to] = Err(e);
                            break;
                        }
                    }
                }
            }
            if !progress {
                break;
            }
        }
        for (i, side) in sides.iter().enumerate() {
            if results[i].is_ok() && !side.finished() {
                results[i] = Err("did not finish".into());
            }
        }
        let [a, b] = results;
        (a, b)
    }

    #[test]
    fn two_sessions_complete_the_exchange() {
        let (a, b) = exchange(|_, l| l);
        assert_eq!(a, Ok(()));
        assert_eq!(b, Ok(()));
    }

    #[test]
    fn sessions_of_one_suite_complete_and_of_two_suites_do_not() {
        let siv = Some(CipherSuite::X25519Aes128GcmSiv);
        let suite1 = Some(CipherSuite::X25519Aes128Gcm);
        // Packets carry the suite: 0xFF01 headers end in ff01.
        let (a, b) = exchange_in([siv, siv], |_, l| {
            if l.starts_with("REQUEST") || l.starts_with("REPLY") {
                assert_eq!(&l[l.find(':').unwrap() + 5..][..4], "ff01", "{l}");
            }
            l
        });
        assert_eq!((a, b), (Ok(()), Ok(())));
        // A default session's server takes 0xFF01; its suite-1 requests are
        // refused by a session of 0xFF01 only, and the other way round.
        assert_eq!(
            exchange_in([None, siv], |_, l| l).1.map_err(|_| ()),
            Err(())
        );
        let (a, _) = exchange_in([suite1, siv], |_, l| l);
        assert!(a.unwrap_err().contains("unsupported cipher suite"));
    }

    #[test]
    fn lines_in_any_order_are_buffered() {
        // Requests before PLAINTEXT/CLIENT_KEY: a session must wait for them.
        let mut a = Session::new(None).unwrap();
        let mut b = Session::new(None).unwrap();
        let greeting_a = a.greeting();
        let greeting_b = b.greeting();
        let requests = b.on_line(&greeting_a[0]).unwrap();
        assert_eq!(requests.len(), 2);
        for r in &requests {
            assert!(a.on_line(r).unwrap().is_empty());
        }
        assert!(a.on_line(&greeting_b[2]).unwrap()[0].starts_with("REPLY:"));
        assert!(a.on_line(&greeting_b[1]).unwrap()[0].starts_with("REPLY_AUTH:"));
    }

    #[test]
    fn a_tampered_request_fails_the_receiver() {
        let (a, _) = exchange(|to, l| {
            if to == 0 && l.starts_with("REQUEST:") {
                let mut bytes = l.into_bytes();
                let last = bytes.len() - 1;
                bytes[last] = if bytes[last] == b'0' { b'1' } else { b'0' };
                String::from_utf8(bytes).unwrap()
            } else {
                l
            }
        });
        assert!(a.unwrap_err().contains("REQUEST: cannot unpack"));
    }

    #[test]
    fn a_wrong_plaintext_or_client_key_is_caught() {
        let other = Session::new(None).unwrap().greeting();
        let (a, _) = exchange(|to, l| {
            if to == 0 && l.starts_with("PLAINTEXT:") {
                other[2].clone()
            } else {
                l
            }
        });
        assert!(a.unwrap_err().contains("not the other side's PLAINTEXT"));
        let (a, _) = exchange(|to, l| {
            if to == 0 && l.starts_with("CLIENT_KEY:") {
                other[1].clone()
            } else {
                l
            }
        });
        assert!(a.unwrap_err().contains("CLIENT_KEY"));
    }

    #[test]
    fn bad_lines_are_errors() {
        for bad in [
            "hello",
            "REPLY:zz",
            "NONSENSE:00",
            "SERVER_KEY:0011",
            "REPLY:00",
        ] {
            let mut session = Session::new(None).unwrap();
            assert!(session.on_line(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn end_of_input_before_completion_is_an_error() {
        let mut out = Vec::new();
        let error = run(&b"PLAINTEXT:00\n"[..], &mut out, None).unwrap_err();
        assert!(error.contains("end of input"));
        assert_eq!(String::from_utf8(out).unwrap().lines().count(), 3);
    }
}
