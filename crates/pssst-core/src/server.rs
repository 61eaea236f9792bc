//! The server side: unpack requests, pack the one reply to each.

#[cfg(feature = "alloc")]
use alloc::vec::Vec;
use core::ops::Range;

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

use crate::header::Header;
use crate::keys::{KEY_LEN, PrivateKey, PublicKey};
use crate::precheck::{Prechecked, ProofLength};
use crate::request_id::RequestId;
use crate::session::{BODY_OFFSET, Direction, SessionKeys, packet_len};
use crate::suite::{CipherSuite, CipherSuites};
use crate::{CLIENT_AUTH_OVERHEAD, Error, PACKET_OVERHEAD, Result, backend};

/// A PSSST server: one private key and the cipher suites it accepts, no
/// other state.
///
/// `Send + Sync`: share one `Server` between all threads of a pool. Any
/// server holding the same private key can answer any request. Each reply
/// uses the suite of its request.
#[derive(Clone, Debug)]
pub struct Server {
    private: PrivateKey,
    public: PublicKey,
    suites: CipherSuites,
}

/// An unpacked request whose message was copied out of the packet.
#[cfg(feature = "alloc")]
#[derive(Debug)]
pub struct Request {
    /// The application message.
    pub message: Vec<u8>,
    /// The client's authenticated public key; `None` for anonymous requests.
    pub client_public_key: Option<PublicKey>,
    /// Packs the one reply to this request.
    pub reply_handler: ServerReplyHandler,
}

/// An unpacked request whose message is a slice of the caller's buffer.
#[derive(Debug)]
pub struct RequestRef<'a> {
    /// The application message.
    pub message: &'a mut [u8],
    /// The client's authenticated public key; `None` for anonymous requests.
    pub client_public_key: Option<PublicKey>,
    /// Packs the one reply to this request.
    pub reply_handler: ServerReplyHandler,
}

/// A request decrypted in place by [`Server::open_in_place`]: where its
/// message lies in the packet, and what answers it.
#[derive(Debug)]
pub struct OpenedRequest {
    /// Where the application message lies in the packet (the client-auth
    /// proof before it is wiped).
    pub message: Range<usize>,
    /// The client's authenticated public key; `None` for anonymous requests.
    pub client_public_key: Option<PublicKey>,
    /// Packs the one reply to this request.
    pub reply_handler: ServerReplyHandler,
}

/// A prechecked request and the session keys this server's X25519 gave it.
struct Keyed {
    request: Prechecked,
    keys: SessionKeys,
}

impl Server {
    /// A server for `private`, accepting every suite this crate implements.
    pub fn new(private: PrivateKey) -> Server {
        let public = private.public_key();
        Server {
            private,
            public,
            suites: CipherSuites::ALL,
        }
    }

    /// This server accepting only the requests of `suites`; the others fail
    /// with [`Error::UnsupportedCipherSuite`], in [`precheck`](Self::precheck)
    /// too.
    ///
    /// ```
    /// use pssst_core::{CipherSuite, CipherSuites, Client, Error, Server, generate_key_pair};
    ///
    /// let (server_private, server_public) = generate_key_pair()?;
    /// let server = Server::new(server_private)
    ///     .with_suites(CipherSuites::only(CipherSuite::X25519Aes128GcmSiv));
    /// let (suite1_request, _) = Client::new(server_public)?.pack_request(b"hi")?;
    /// assert_eq!(server.precheck(&suite1_request).err(), Some(Error::UnsupportedCipherSuite));
    /// # Ok::<(), pssst_core::Error>(())
    /// ```
    pub fn with_suites(self, suites: CipherSuites) -> Server {
        Server { suites, ..self }
    }

    /// The suites this server accepts.
    pub fn suites(&self) -> CipherSuites {
        self.suites
    }

    /// The suite of `header` if this server accepts it.
    pub(crate) fn accepted_suite(&self, header: Header) -> Result<CipherSuite> {
        let suite = header.suite()?;
        if self.suites.contains(suite) {
            Ok(suite)
        } else {
            Err(Error::UnsupportedCipherSuite)
        }
    }

    /// The public key clients encrypt to.
    pub fn public_key(&self) -> PublicKey {
        self.public
    }

    /// The one X25519 operation and the KDF, for a request of an accepted
    /// suite (a [`Prechecked`] may come from a server accepting others).
    fn key(&self, request: &Prechecked) -> Result<Keyed> {
        if !self.suites.contains(request.suite()) {
            return Err(Error::UnsupportedCipherSuite);
        }
        let dh_param = request.request_id();
        let shared = backend::x25519(self.private.as_bytes(), dh_param.as_bytes())?;
        let keys = SessionKeys::derive(request.suite(), dh_param.as_bytes(), &shared);
        Ok(Keyed {
            request: *request,
            keys,
        })
    }

    /// The second stage: decrypts the request [`precheck`](Self::precheck)
    /// passed, in place, and says where its message lies. Allocates nothing.
    ///
    /// When the packet is not for this key (or forged), it fails with
    /// [`Error::DecryptionFailed`] and leaves `packet` **untouched**, byte
    /// for byte: a server with several keys tries each in turn on the same
    /// buffer, with no copy. So does a `packet` other than the one
    /// prechecked (its length, header or DH parameter differ). After a
    /// successful decryption, a bad client-auth proof
    /// ([`Error::ClientAuthFailed`]) wipes the plaintext instead.
    ///
    /// ```
    /// use pssst_core::{Client, Error, Server, generate_key_pair};
    ///
    /// let (first_private, _) = generate_key_pair()?;
    /// let (second_private, second_public) = generate_key_pair()?;
    /// let keys = [Server::new(first_private), Server::new(second_private)];
    /// let (mut packet, _) = Client::new(second_public)?.pack_request(b"hi")?;
    /// let sent = packet.clone();
    ///
    /// let request = keys[0].precheck(&packet)?;
    /// assert_eq!(keys[0].open_in_place(&request, &mut packet).err(), Some(Error::DecryptionFailed));
    /// assert_eq!(packet, sent); // untouched: try the next key
    /// let opened = keys[1].open_in_place(&request, &mut packet)?;
    /// assert_eq!(&packet[opened.message], b"hi");
    /// # Ok::<(), pssst_core::Error>(())
    /// ```
    pub fn open_in_place(&self, request: &Prechecked, packet: &mut [u8]) -> Result<OpenedRequest> {
        if !request.describes(packet) {
            return Err(Error::DecryptionFailed);
        }
        let keyed = self.key(request)?;
        let body = &mut packet[BODY_OFFSET..];
        // Verified before anything is decrypted: a wrong tag leaves `body` as it was.
        let plaintext_len = keyed
            .keys
            .open_in_place(Direction::Request, request.header(), body)?;
        let plaintext = &mut body[..plaintext_len];
        let (offset, client_public_key) = wipe_on_error(plaintext, |p| verify_proof(&keyed, p))?;
        // The proof C || e has done its job: e is a secret, wipe it.
        plaintext[..offset].zeroize();
        Ok(OpenedRequest {
            message: BODY_OFFSET + offset..BODY_OFFSET + plaintext_len,
            client_public_key,
            reply_handler: ServerReplyHandler::new(keyed),
        })
    }

    /// Unpacks the request in `packet`, decrypting in place: both stages
    /// ([`precheck`](Self::precheck), [`open_in_place`](Self::open_in_place))
    /// in one call; the message is a slice of `packet`. Allocates nothing.
    /// A client-auth request too short for its proof fails as the
    /// references fail it, with [`Error::DecryptionFailed`].
    pub fn unpack_request_in_place<'p>(&self, packet: &'p mut [u8]) -> Result<RequestRef<'p>> {
        let request = self.check(packet, ProofLength::LeftToDecryption)?;
        let opened = self.open_in_place(&request, packet)?;
        Ok(RequestRef {
            message: &mut packet[opened.message],
            client_public_key: opened.client_public_key,
            reply_handler: opened.reply_handler,
        })
    }

    /// Unpacks the request in `packet` into `out`, which must hold the whole
    /// plaintext, `packet.len() - PACKET_OVERHEAD` bytes (the 64-byte
    /// client-auth proof is decrypted there too, then removed): the message
    /// is a slice of `out`. Allocates nothing.
    pub fn unpack_request_into<'o>(
        &self,
        packet: &[u8],
        out: &'o mut [u8],
    ) -> Result<RequestRef<'o>> {
        let keyed = self.key(&self.check(packet, ProofLength::LeftToDecryption)?)?;
        let plaintext_len = packet.len() - PACKET_OVERHEAD;
        let plaintext = out.get_mut(..plaintext_len).ok_or(Error::BufferTooSmall {
            needed: plaintext_len,
        })?;
        keyed.keys.open_into(
            Direction::Request,
            keyed.request.header(),
            &packet[BODY_OFFSET..],
            plaintext,
        )?;
        let (offset, client_public_key) = wipe_on_error(plaintext, |p| verify_proof(&keyed, p))?;
        if offset > 0 {
            plaintext.copy_within(offset.., 0);
            plaintext[plaintext_len - offset..].zeroize();
        }
        Ok(RequestRef {
            message: &mut plaintext[..plaintext_len - offset],
            client_public_key,
            reply_handler: ServerReplyHandler::new(keyed),
        })
    }

    /// Unpacks the request in `packet` into a new [`Request`].
    #[cfg(feature = "alloc")]
    pub fn unpack_request(&self, packet: &[u8]) -> Result<Request> {
        let mut message = alloc::vec![0; packet.len().saturating_sub(PACKET_OVERHEAD)];
        let unpacked = self.unpack_request_into(packet, &mut message)?;
        let (len, client_public_key, reply_handler) = (
            unpacked.message.len(),
            unpacked.client_public_key,
            unpacked.reply_handler,
        );
        message.truncate(len);
        Ok(Request {
            message,
            client_public_key,
            reply_handler,
        })
    }
}

/// Runs `check` on a decrypted plaintext and wipes the plaintext if the check
/// fails, so no caller sees data from a request that was rejected.
fn wipe_on_error<T>(plaintext: &mut [u8], check: impl FnOnce(&[u8]) -> Result<T>) -> Result<T> {
    let result = check(plaintext);
    if result.is_err() {
        plaintext.zeroize();
    }
    result
}

/// For a client-auth request, checks the proof C || e at the start of the
/// plaintext (e·C must be the DH parameter) and returns (64, Some(C));
/// for an anonymous request returns (0, None).
fn verify_proof(keyed: &Keyed, plaintext: &[u8]) -> Result<(usize, Option<PublicKey>)> {
    if !keyed.request.is_client_auth() {
        return Ok((0, None));
    }
    let proof = plaintext
        .get(..CLIENT_AUTH_OVERHEAD)
        .ok_or(Error::Truncated)?;
    let (client_public, ephemeral) = proof.split_at(KEY_LEN);
    let client_public = PublicKey::try_from_slice(client_public)?;
    // One private key must not yield several identities.
    if !client_public.is_canonical() {
        return Err(Error::ClientAuthFailed);
    }
    let ephemeral =
        Zeroizing::new(<[u8; KEY_LEN]>::try_from(ephemeral).map_err(|_| Error::Truncated)?);
    // Only e·C is needed: the proof holds iff it reproduces the DH parameter.
    let expected = backend::x25519(&ephemeral, client_public.as_bytes())
        .map_err(|_| Error::ClientAuthFailed)?;
    if bool::from(expected.ct_eq(keyed.request.request_id().as_bytes())) {
        Ok((CLIENT_AUTH_OVERHEAD, Some(client_public)))
    } else {
        Err(Error::ClientAuthFailed)
    }
}

/// Packs the one reply to one request, reusing the request's suite, key and
/// DH parameter with the reply nonce.
///
/// It packs exactly one reply: packing consumes it, because under suite 1 a
/// second, different reply would reuse the AES-GCM nonce. Size the buffer with
/// [`reply_len`](Self::reply_len) first: a failed pack
/// ([`Error::BufferTooSmall`] too) uses it up all the same.
///
/// ```compile_fail
/// # let (server_private, server_public) = pssst_core::generate_key_pair().unwrap();
/// # let server = pssst_core::Server::new(server_private);
/// # let client = pssst_core::Client::new(server_public).unwrap();
/// # let (request, _) = client.pack_request(b"q").unwrap();
/// let handler = server.unpack_request(&request).unwrap().reply_handler;
/// let first = handler.pack_reply(b"one");
/// let second = handler.pack_reply(b"two"); // error: use of moved value
/// ```
///
/// A client that retries sends the same request again, and the server
/// derives the same key and nonce for it. Under suite 1 the reply to a
/// retry must therefore be byte-identical to the first reply (same
/// message), or the nonce is reused across two different plaintexts. Make
/// the reply a function of the request, or remember it. Under suite
/// 0xFF01 (AES-GCM-SIV) a different reply reveals only that it differs.
#[derive(Debug)]
pub struct ServerReplyHandler {
    suite: CipherSuite,
    keys: SessionKeys,
    request_id: RequestId,
    client_auth: bool,
}

impl ServerReplyHandler {
    fn new(keyed: Keyed) -> ServerReplyHandler {
        ServerReplyHandler {
            suite: keyed.request.suite(),
            client_auth: keyed.request.is_client_auth(),
            keys: keyed.keys,
            request_id: keyed.request.request_id(),
        }
    }

    /// The request's identifier: its DH parameter, the same in every copy
    /// of one request and different for every new one (key a reply cache
    /// with it).
    pub fn request_id(&self) -> RequestId {
        self.request_id
    }

    /// The length of the reply packet that carries a `message_len`-byte
    /// message, or [`Error::MessageTooLarge`] past AES-GCM's limit.
    pub fn reply_len(&self, message_len: usize) -> Result<usize> {
        packet_len(message_len)
    }

    /// The request's cipher suite, which the reply uses too.
    pub fn suite(&self) -> CipherSuite {
        self.suite
    }

    /// True when the request was client-authenticated (the reply carries
    /// the CLIENT_AUTH flag too).
    pub fn is_client_auth(&self) -> bool {
        self.client_auth
    }

    /// Packs `message` into `packet` (at least
    /// [`reply_len`](Self::reply_len) bytes); returns the
    /// packet length. Allocates nothing.
    pub fn pack_reply_into(self, message: &[u8], packet: &mut [u8]) -> Result<usize> {
        let len = packet_len(message.len())?;
        let packet = packet
            .get_mut(..len)
            .ok_or(Error::BufferTooSmall { needed: len })?;
        // Replies carry exactly 0x8000 or 0xC000, as the references send.
        let header = Header::new(self.suite, true, self.client_auth);
        let (head, body) = packet.split_at_mut(BODY_OFFSET);
        head[..4].copy_from_slice(&header.to_bytes());
        head[4..].copy_from_slice(self.request_id.as_bytes());
        body[..message.len()].copy_from_slice(message);
        self.keys.seal(Direction::Reply, header, body)?;
        Ok(len)
    }

    /// Packs `message` into a new packet.
    #[cfg(feature = "alloc")]
    pub fn pack_reply(self, message: &[u8]) -> Result<Vec<u8>> {
        let mut packet = alloc::vec![0; packet_len(message.len())?];
        self.pack_reply_into(message, &mut packet)?;
        Ok(packet)
    }
}
