//! [`RequestId`]: what names one request across its copies and its reply.

use core::fmt;

use crate::layout;
use crate::session::DH_PARAM_LEN;

/// A request's identifier: its DH parameter, the same in every copy of one
/// request (a retry sends the same bytes), repeated by its reply, and
/// different for every new request (a fresh ephemeral each). Key a reply
/// cache with it, or match replies to requests.
///
/// It is public data (it travels in clear), so comparing it in variable
/// time is fine.
///
/// ```
/// use pssst_core::{Client, RequestId, generate_key_pair};
///
/// let (_, server_public) = generate_key_pair()?;
/// let (request, reply_handler) = Client::new(server_public)?.pack_request(b"hi")?;
/// assert_eq!(RequestId::of(&request), Some(reply_handler.request_id()));
/// assert_eq!(RequestId::of(&request[..35]), None); // too short to carry one
/// # Ok::<(), pssst_core::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId([u8; DH_PARAM_LEN]);

impl RequestId {
    /// The id these 32 bytes spell (a DH parameter).
    pub const fn from_bytes(bytes: [u8; DH_PARAM_LEN]) -> RequestId {
        RequestId(bytes)
    }

    /// The id of the request `packet` is (or, for a reply, answers); `None`
    /// when the packet is too short to carry a DH parameter.
    pub fn of(packet: &[u8]) -> Option<RequestId> {
        layout::dh_param(packet).copied().map(RequestId)
    }

    /// The 32 bytes of the DH parameter.
    pub const fn as_bytes(&self) -> &[u8; DH_PARAM_LEN] {
        &self.0
    }
}

impl From<RequestId> for [u8; DH_PARAM_LEN] {
    fn from(id: RequestId) -> [u8; DH_PARAM_LEN] {
        id.0
    }
}

impl fmt::Debug for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RequestId({self})")
    }
}

/// Lowercase hex, as logs and tools show a request id.
impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
    }
}
