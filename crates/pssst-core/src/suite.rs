//! The cipher suites this crate implements and the sets a server accepts.

use core::fmt;
use core::str::FromStr;

use crate::{Error, Result};

/// Suite 1: X25519 + SHA-256 KDF + AES-128-GCM, the suite of the Go and
/// Python reference implementations.
pub const SUITE_X25519_AESGCM128: u16 = 1;
/// Suite 0xFF01: suite 1 with AES-128-GCM-SIV (RFC 8452) in place of
/// AES-128-GCM. From the private-use range until one is assigned.
pub const SUITE_X25519_AESGCMSIV128: u16 = 0xFF01;

/// A PSSST cipher suite. The suites differ only in their AEAD: header, DH
/// parameter, KDF and client-authentication proof are the same.
///
/// ```
/// use pssst_core::CipherSuite;
///
/// assert_eq!(CipherSuite::default(), CipherSuite::X25519Aes128Gcm);
/// assert_eq!(CipherSuite::try_from(0xFF01), Ok(CipherSuite::X25519Aes128GcmSiv));
/// assert_eq!(u16::from(CipherSuite::X25519Aes128GcmSiv), 0xFF01);
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CipherSuite {
    /// Suite 1 (AES-128-GCM): understood by every PSSST implementation.
    /// A retried request gets the same reply nonce, so the reply to a retry
    /// must be byte-identical to the first.
    #[default]
    X25519Aes128Gcm,
    /// Suite 0xFF01 (AES-128-GCM-SIV): a reply to a retry may differ from
    /// the first without breaking the AEAD; an observer learns only that the
    /// two replies differ. Not understood by gopssst or pypssst.
    X25519Aes128GcmSiv,
}

impl CipherSuite {
    /// Every suite this crate implements, in order of preference for
    /// interoperability.
    pub const ALL: [CipherSuite; 2] = [
        CipherSuite::X25519Aes128Gcm,
        CipherSuite::X25519Aes128GcmSiv,
    ];

    /// The suite's identifier in the packet header.
    pub const fn id(self) -> u16 {
        match self {
            CipherSuite::X25519Aes128Gcm => SUITE_X25519_AESGCM128,
            CipherSuite::X25519Aes128GcmSiv => SUITE_X25519_AESGCMSIV128,
        }
    }

    /// The suite with header identifier `id`, or
    /// [`Error::UnsupportedCipherSuite`].
    pub const fn from_id(id: u16) -> Result<CipherSuite> {
        match id {
            SUITE_X25519_AESGCM128 => Ok(CipherSuite::X25519Aes128Gcm),
            SUITE_X25519_AESGCMSIV128 => Ok(CipherSuite::X25519Aes128GcmSiv),
            _ => Err(Error::UnsupportedCipherSuite),
        }
    }

    /// The names `str::parse` accepts for the suite (its `FromStr`), in
    /// any ASCII case: its number, then its AEAD's names.
    pub const fn spellings(self) -> &'static [&'static str] {
        match self {
            CipherSuite::X25519Aes128Gcm => &["1", "aes-gcm"],
            CipherSuite::X25519Aes128GcmSiv => &["0xff01", "gcm-siv", "aes-gcm-siv"],
        }
    }

    /// Position in [`ALL`](Self::ALL), and bit in [`CipherSuites`].
    const fn index(self) -> u8 {
        match self {
            CipherSuite::X25519Aes128Gcm => 0,
            CipherSuite::X25519Aes128GcmSiv => 1,
        }
    }
}

impl From<CipherSuite> for u16 {
    fn from(suite: CipherSuite) -> u16 {
        suite.id()
    }
}

impl TryFrom<u16> for CipherSuite {
    type Error = Error;
    fn try_from(id: u16) -> Result<CipherSuite> {
        CipherSuite::from_id(id)
    }
}

/// A suite by one of its [`spellings`](CipherSuite::spellings) (`"1"`,
/// `"gcm-siv"`, ...; surrounding whitespace ignored), or
/// [`Error::UnsupportedCipherSuite`].
///
/// ```
/// use pssst_core::{CipherSuite, Error};
///
/// assert_eq!("GCM-SIV".parse(), Ok(CipherSuite::X25519Aes128GcmSiv));
/// assert_eq!("2".parse::<CipherSuite>(), Err(Error::UnsupportedCipherSuite));
/// ```
impl FromStr for CipherSuite {
    type Err = Error;
    fn from_str(text: &str) -> Result<CipherSuite> {
        let text = text.trim();
        CipherSuite::ALL
            .into_iter()
            .find(|suite| {
                suite
                    .spellings()
                    .iter()
                    .any(|name| name.eq_ignore_ascii_case(text))
            })
            .ok_or(Error::UnsupportedCipherSuite)
    }
}

impl fmt::Display for CipherSuite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CipherSuite::X25519Aes128Gcm => f.write_str("suite 1 (X25519, SHA-256, AES-128-GCM)"),
            CipherSuite::X25519Aes128GcmSiv => {
                f.write_str("suite 0xFF01 (X25519, SHA-256, AES-128-GCM-SIV)")
            }
        }
    }
}

/// The suites a [`Server`](crate::Server) accepts: never empty. All of
/// them by default.
///
/// ```
/// use pssst_core::{CipherSuite, CipherSuites};
///
/// let siv_only = CipherSuites::only(CipherSuite::X25519Aes128GcmSiv);
/// assert!(!siv_only.contains(CipherSuite::X25519Aes128Gcm));
/// assert_eq!(siv_only.with(CipherSuite::X25519Aes128Gcm), CipherSuites::ALL);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CipherSuites {
    /// Bit `suite.index()` set for each suite in the set.
    bits: u8,
}

impl CipherSuites {
    /// Every suite this crate implements.
    pub const ALL: CipherSuites = CipherSuites {
        bits: (1 << CipherSuite::ALL.len()) - 1,
    };

    /// The set holding `suite` alone.
    pub const fn only(suite: CipherSuite) -> CipherSuites {
        CipherSuites {
            bits: 1 << suite.index(),
        }
    }

    /// This set with `suite` added.
    pub const fn with(self, suite: CipherSuite) -> CipherSuites {
        CipherSuites {
            bits: self.bits | 1 << suite.index(),
        }
    }

    /// True when `suite` is in the set.
    pub const fn contains(self, suite: CipherSuite) -> bool {
        self.bits & 1 << suite.index() != 0
    }

    /// The set of `suites`, repeats allowed, or
    /// [`Error::UnsupportedCipherSuite`] when there are none: a server
    /// accepting no suite could answer nothing.
    pub fn from_suites(suites: impl IntoIterator<Item = CipherSuite>) -> Result<CipherSuites> {
        CipherSuites::try_from_suites(suites.into_iter().map(Ok))
    }

    /// The set of the suites with header identifiers `ids` (the form C and
    /// Python pass): [`Error::UnsupportedCipherSuite`] for an unknown
    /// identifier or none at all.
    ///
    /// ```
    /// use pssst_core::{CipherSuite, CipherSuites, Error};
    ///
    /// assert_eq!(CipherSuites::from_ids([0xFF01, 0xFF01]), Ok(CipherSuites::only(CipherSuite::X25519Aes128GcmSiv)));
    /// assert_eq!(CipherSuites::from_ids([1, 2]), Err(Error::UnsupportedCipherSuite));
    /// assert_eq!(CipherSuites::from_ids([]), Err(Error::UnsupportedCipherSuite));
    /// ```
    pub fn from_ids(ids: impl IntoIterator<Item = u16>) -> Result<CipherSuites> {
        CipherSuites::try_from_suites(ids.into_iter().map(CipherSuite::from_id))
    }

    fn try_from_suites(
        mut suites: impl Iterator<Item = Result<CipherSuite>>,
    ) -> Result<CipherSuites> {
        let first = suites.next().ok_or(Error::UnsupportedCipherSuite)??;
        suites.try_fold(CipherSuites::only(first), |set, suite| Ok(set.with(suite?)))
    }

    /// The suites in the set, in the order of [`CipherSuite::ALL`].
    pub fn iter(self) -> impl Iterator<Item = CipherSuite> {
        CipherSuite::ALL
            .into_iter()
            .filter(move |suite| self.contains(*suite))
    }
}

impl Default for CipherSuites {
    fn default() -> CipherSuites {
        CipherSuites::ALL
    }
}

impl fmt::Debug for CipherSuites {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_unknown_ids_are_refused() {
        for suite in CipherSuite::ALL {
            assert_eq!(CipherSuite::from_id(suite.id()), Ok(suite));
        }
        for id in [0, 2, 0xFF00, 0xFF02, 0xFFFF] {
            assert_eq!(CipherSuite::from_id(id), Err(Error::UnsupportedCipherSuite));
        }
    }

    #[test]
    fn names_parse_in_any_case_and_others_are_refused() {
        for (text, expected) in [
            ("1", CipherSuite::X25519Aes128Gcm),
            (" AES-GCM", CipherSuite::X25519Aes128Gcm),
            ("gcm-siv", CipherSuite::X25519Aes128GcmSiv),
            ("Aes-Gcm-Siv", CipherSuite::X25519Aes128GcmSiv),
            ("0xFF01\n", CipherSuite::X25519Aes128GcmSiv),
        ] {
            assert_eq!(text.parse(), Ok(expected), "{text:?}");
        }
        for bad in ["", "2", "01", "0x0001", "65281", "siv", "gcm", "1,gcm-siv"] {
            assert_eq!(
                bad.parse::<CipherSuite>(),
                Err(Error::UnsupportedCipherSuite),
                "{bad:?}"
            );
        }
        for suite in CipherSuite::ALL {
            for name in suite.spellings() {
                assert_eq!(name.parse(), Ok(suite), "{name}");
            }
        }
    }

    #[test]
    fn lists_make_sets_and_an_empty_or_unknown_one_is_refused() {
        let siv = CipherSuite::X25519Aes128GcmSiv;
        assert_eq!(CipherSuites::from_ids([1, 0xFF01]), Ok(CipherSuites::ALL));
        assert_eq!(
            CipherSuites::from_ids([0xFF01, 0xFF01]),
            Ok(CipherSuites::only(siv))
        );
        assert_eq!(
            CipherSuites::from_suites([siv, siv]),
            Ok(CipherSuites::only(siv))
        );
        assert_eq!(
            CipherSuites::from_suites(CipherSuite::ALL),
            Ok(CipherSuites::ALL)
        );
        for bad in [&[][..], &[1, 2], &[0xFF00]] {
            assert_eq!(
                CipherSuites::from_ids(bad.iter().copied()),
                Err(Error::UnsupportedCipherSuite)
            );
        }
        assert_eq!(
            CipherSuites::from_suites([]),
            Err(Error::UnsupportedCipherSuite)
        );
    }

    #[test]
    fn sets_hold_what_was_put_in() {
        for suite in CipherSuite::ALL {
            let set = CipherSuites::only(suite);
            assert!(set.iter().eq([suite]));
            for other in CipherSuite::ALL {
                assert_eq!(set.contains(other), other == suite);
                assert!(CipherSuites::ALL.contains(other));
            }
        }
        assert!(CipherSuites::ALL.iter().eq(CipherSuite::ALL));
        assert_eq!(CipherSuites::default(), CipherSuites::ALL);
    }
}
