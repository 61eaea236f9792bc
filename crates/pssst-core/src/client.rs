//! The client side: pack requests, unpack the one reply to each.

#[cfg(feature = "alloc")]
use alloc::vec::Vec;

use rand_core::TryCryptoRng;
use zeroize::Zeroizing;

use crate::header::Header;
use crate::keys::{KEY_LEN, PrivateKey, PublicKey, clamp};
use crate::request_id::RequestId;
use crate::session::{BODY_OFFSET, DH_PARAM_LEN, Direction, SessionKeys, packet_len};
use crate::suite::CipherSuite;
use crate::{CLIENT_AUTH_OVERHEAD, Error, PACKET_OVERHEAD, Result, backend};

/// Any scalar works to test a server key for low order: X25519 clamps it to
/// a multiple of the cofactor, which sends every low-order point to zero.
const LOW_ORDER_PROBE: [u8; 32] = [0x5a; 32];

/// A PSSST client for one server public key and one cipher suite (suite 1
/// unless [`with_suite`](Self::with_suite) says otherwise), anonymous or
/// client-authenticated.
///
/// Holds no per-request state: it is `Send + Sync`, and one `Client` can pack
/// requests from many threads at once. Each request gets its own
/// [`ClientReplyHandler`].
///
/// ```
/// use pssst_core::{Client, Server, generate_key_pair};
///
/// let (server_private, server_public) = generate_key_pair()?;
/// let server = Server::new(server_private);
/// let client = Client::new(server_public)?;
///
/// let (request, mut reply_handler) = client.pack_request(b"ping")?;
/// let mut incoming = server.unpack_request(&request)?;
/// assert_eq!(incoming.message, b"ping");
/// assert_eq!(incoming.client_public_key, None);
///
/// let reply = incoming.reply_handler.pack_reply(b"pong")?;
/// assert_eq!(reply_handler.unpack_reply(&reply)?, b"pong");
/// # Ok::<(), pssst_core::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Client {
    server_public: PublicKey,
    auth: Option<ClientAuth>,
    suite: CipherSuite,
}

/// The client's public key and the static half of its shared secret, c·S,
/// computed once so each request costs two X25519 operations, not three.
#[derive(Clone)]
struct ClientAuth {
    public: PublicKey,
    static_shared: Zeroizing<[u8; KEY_LEN]>,
}

impl core::fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ClientAuth")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// An anonymous client. [`Error::LowOrderPoint`] if `server_public` is a
    /// low-order point (no request to it could be secret).
    pub fn new(server_public: PublicKey) -> Result<Client> {
        backend::x25519(&LOW_ORDER_PROBE, server_public.as_bytes())?;
        Ok(Client {
            server_public,
            auth: None,
            suite: CipherSuite::default(),
        })
    }

    /// A client that proves to the server it holds `client_private`.
    pub fn with_client_auth(
        server_public: PublicKey,
        client_private: &PrivateKey,
    ) -> Result<Client> {
        let static_shared = backend::x25519(client_private.as_bytes(), server_public.as_bytes())?;
        Ok(Client {
            server_public,
            auth: Some(ClientAuth {
                public: client_private.public_key(),
                static_shared,
            }),
            suite: CipherSuite::default(),
        })
    }

    /// This client packing its requests with `suite` (suite 1 by default,
    /// the only one gopssst and pypssst servers understand).
    ///
    /// ```
    /// use pssst_core::{CipherSuite, Client, Server, generate_key_pair};
    ///
    /// let (server_private, server_public) = generate_key_pair()?;
    /// let client = Client::new(server_public)?.with_suite(CipherSuite::X25519Aes128GcmSiv);
    /// let (request, mut reply_handler) = client.pack_request(b"ping")?;
    /// let incoming = Server::new(server_private).unpack_request(&request)?;
    /// assert_eq!(incoming.reply_handler.suite(), CipherSuite::X25519Aes128GcmSiv);
    /// let reply = incoming.reply_handler.pack_reply(b"pong")?;
    /// assert_eq!(reply_handler.unpack_reply(&reply)?, b"pong");
    /// # Ok::<(), pssst_core::Error>(())
    /// ```
    pub fn with_suite(self, suite: CipherSuite) -> Client {
        Client { suite, ..self }
    }

    /// The cipher suite of this client's requests.
    pub fn suite(&self) -> CipherSuite {
        self.suite
    }

    /// The server key requests are encrypted to.
    pub fn server_public_key(&self) -> PublicKey {
        self.server_public
    }

    /// The client's own public key, when it authenticates.
    pub fn client_public_key(&self) -> Option<PublicKey> {
        self.auth.as_ref().map(|auth| auth.public)
    }

    /// Length of the reply packet carrying `message_len` bytes (the same for
    /// every client and server).
    pub fn reply_len(message_len: usize) -> Result<usize> {
        packet_len(message_len)
    }

    /// Length of the request packet for a message of `message_len` bytes.
    pub fn request_len(&self, message_len: usize) -> Result<usize> {
        let proof_len = if self.auth.is_some() {
            CLIENT_AUTH_OVERHEAD
        } else {
            0
        };
        packet_len(
            message_len
                .checked_add(proof_len)
                .ok_or(Error::MessageTooLarge)?,
        )
    }

    /// Packs `message` into `packet` (at least [`request_len`](Self::request_len)
    /// bytes) with an ephemeral key from `rng`. Allocates nothing. Returns the
    /// packet length and the handler for the reply.
    pub fn pack_request_into_with_rng<R: TryCryptoRng + ?Sized>(
        &self,
        message: &[u8],
        packet: &mut [u8],
        rng: &mut R,
    ) -> Result<(usize, ClientReplyHandler)> {
        let len = self.request_len(message.len())?;
        if packet.len() < len {
            return Err(Error::BufferTooSmall { needed: len });
        }
        let mut ephemeral = Zeroizing::new([0u8; KEY_LEN]);
        rng.try_fill_bytes(ephemeral.as_mut())
            .map_err(|_| Error::RngFailure)?;
        self.pack_into_with_ephemeral(message, packet, ephemeral)
    }

    /// Packs with the given ephemeral bytes (before clamping): the test
    /// hook below and every packing path end here.
    fn pack_into_with_ephemeral(
        &self,
        message: &[u8],
        packet: &mut [u8],
        mut ephemeral: Zeroizing<[u8; KEY_LEN]>,
    ) -> Result<(usize, ClientReplyHandler)> {
        let len = self.request_len(message.len())?;
        let packet = packet
            .get_mut(..len)
            .ok_or(Error::BufferTooSmall { needed: len })?;
        // gopssst clamps the ephemeral, and in client-auth requests the
        // clamped bytes travel in the plaintext: clamp to stay byte-exact.
        clamp(&mut ephemeral);

        let (dh_param, shared) = match &self.auth {
            None => (
                backend::x25519_base(&ephemeral),
                backend::x25519(&ephemeral, self.server_public.as_bytes())?,
            ),
            Some(auth) => (
                *backend::x25519(&ephemeral, auth.public.as_bytes())?,
                backend::x25519(&ephemeral, &auth.static_shared)?,
            ),
        };
        let keys = SessionKeys::derive(self.suite, &dh_param, &shared);

        let header = Header::new(self.suite, false, self.auth.is_some());
        let (head, body) = packet.split_at_mut(BODY_OFFSET);
        head[..4].copy_from_slice(&header.to_bytes());
        head[4..].copy_from_slice(&dh_param);
        let text = match &self.auth {
            None => &mut *body,
            Some(auth) => {
                let (proof, rest) = body.split_at_mut(CLIENT_AUTH_OVERHEAD);
                proof[..KEY_LEN].copy_from_slice(auth.public.as_bytes());
                proof[KEY_LEN..].copy_from_slice(ephemeral.as_ref());
                rest
            }
        };
        text[..message.len()].copy_from_slice(message);
        keys.seal(Direction::Request, header, body)?;

        let handler = ClientReplyHandler {
            suite: self.suite,
            keys,
            dh_param,
            client_auth: self.auth.is_some(),
            used: false,
        };
        Ok((len, handler))
    }

    /// [`pack_request_into_with_rng`](Self::pack_request_into_with_rng) with
    /// the operating system's RNG.
    #[cfg(feature = "getrandom")]
    pub fn pack_request_into(
        &self,
        message: &[u8],
        packet: &mut [u8],
    ) -> Result<(usize, ClientReplyHandler)> {
        self.pack_request_into_with_rng(message, packet, &mut getrandom::SysRng)
    }

    /// Packs `message` into a new packet with an ephemeral key from `rng`.
    #[cfg(feature = "alloc")]
    pub fn pack_request_with_rng<R: TryCryptoRng + ?Sized>(
        &self,
        message: &[u8],
        rng: &mut R,
    ) -> Result<(Vec<u8>, ClientReplyHandler)> {
        let mut packet = alloc::vec![0; self.request_len(message.len())?];
        let (_, handler) = self.pack_request_into_with_rng(message, &mut packet, rng)?;
        Ok((packet, handler))
    }

    /// Testing only (feature `hazmat`): packs `message` with `ephemeral`
    /// (32 bytes, clamped here as an RNG's output would be) instead of a
    /// random ephemeral, for known-answer tests and benchmarks. Two messages
    /// packed with one ephemeral reuse a nonce: never use this outside tests.
    #[cfg(all(feature = "hazmat", feature = "alloc"))]
    pub fn pack_request_with_ephemeral(
        &self,
        message: &[u8],
        ephemeral: &[u8; KEY_LEN],
    ) -> Result<(Vec<u8>, ClientReplyHandler)> {
        let mut packet = alloc::vec![0; self.request_len(message.len())?];
        let (_, handler) =
            self.pack_into_with_ephemeral(message, &mut packet, Zeroizing::new(*ephemeral))?;
        Ok((packet, handler))
    }

    /// Packs `message` into a new packet, with the operating system's RNG.
    #[cfg(all(feature = "alloc", feature = "getrandom"))]
    pub fn pack_request(&self, message: &[u8]) -> Result<(Vec<u8>, ClientReplyHandler)> {
        self.pack_request_with_rng(message, &mut getrandom::SysRng)
    }
}

/// Unpacks the one reply to one request.
///
/// A packet that fails to unpack (forged, corrupted, for another request)
/// leaves the handler usable, so junk from an attacker cannot stop the
/// genuine reply from being accepted. After one success every further call
/// fails with [`Error::HandlerReused`]. Secrets are zeroized on drop.
#[derive(Debug)]
pub struct ClientReplyHandler {
    suite: CipherSuite,
    keys: SessionKeys,
    dh_param: [u8; DH_PARAM_LEN],
    client_auth: bool,
    used: bool,
}

impl ClientReplyHandler {
    /// The request's cipher suite, which its reply must use too.
    pub fn suite(&self) -> CipherSuite {
        self.suite
    }

    /// True once a reply has been accepted.
    pub fn is_used(&self) -> bool {
        self.used
    }

    /// The request's identifier: its DH parameter, which its reply repeats
    /// (the same as [`ServerReplyHandler::request_id`](crate::ServerReplyHandler::request_id)
    /// on the server).
    pub fn request_id(&self) -> RequestId {
        RequestId::from_bytes(self.dh_param)
    }

    /// Checks everything about `packet` that needs no decryption; returns
    /// its header and the message length.
    fn check(&self, packet: &[u8]) -> Result<(Header, usize)> {
        if self.used {
            return Err(Error::HandlerReused);
        }
        let header = Header::parse(packet)?;
        if !header.is_reply() {
            return Err(Error::NotReply);
        }
        let suite = header.suite()?;
        let message_len = packet
            .len()
            .checked_sub(PACKET_OVERHEAD)
            .ok_or(Error::Truncated)?;
        if suite != self.suite
            || header.is_client_auth() != self.client_auth
            || RequestId::of(packet).ok_or(Error::Truncated)? != self.request_id()
        {
            return Err(Error::ReplyMismatch);
        }
        Ok((header, message_len))
    }

    /// Verifies and decrypts `packet` into `message` (at least
    /// `packet.len() - PACKET_OVERHEAD` bytes); returns the message length.
    /// Allocates nothing. [`Error::BufferTooSmall`] leaves the handler
    /// unused, so the call can be repeated with a larger buffer.
    pub fn unpack_reply_into(&mut self, packet: &[u8], message: &mut [u8]) -> Result<usize> {
        let (header, message_len) = self.check(packet)?;
        let out = message
            .get_mut(..message_len)
            .ok_or(Error::BufferTooSmall {
                needed: message_len,
            })?;
        self.keys
            .open_into(Direction::Reply, header, &packet[BODY_OFFSET..], out)?;
        self.used = true;
        Ok(message_len)
    }

    /// Verifies and decrypts `packet` in place; returns the message, a
    /// slice of `packet`. Allocates nothing.
    pub fn unpack_reply_in_place<'p>(&mut self, packet: &'p mut [u8]) -> Result<&'p mut [u8]> {
        let (header, message_len) = self.check(packet)?;
        let body = &mut packet[BODY_OFFSET..];
        self.keys.open_in_place(Direction::Reply, header, body)?;
        self.used = true;
        Ok(&mut body[..message_len])
    }

    /// Verifies and decrypts `packet` into a new `Vec`.
    #[cfg(feature = "alloc")]
    pub fn unpack_reply(&mut self, packet: &[u8]) -> Result<Vec<u8>> {
        let (_, message_len) = self.check(packet)?;
        let mut message = alloc::vec![0; message_len];
        self.unpack_reply_into(packet, &mut message)?;
        Ok(message)
    }
}
