//! The environment of `--exec` commands: an allowlist. `serve`'s own
//! environment may hold secrets (`CREDENTIALS_DIRECTORY`, where the server
//! key lives under systemd, tokens of its supervisor): a command sees only
//! PATH, the locale (LANG, LANGUAGE, LC_*), `PSSST_*` and the names given
//! with `--exec-env`.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

/// The variables of this process that commands get, read once at startup.
pub fn allowed(extra: &[String]) -> Vec<(OsString, OsString)> {
    std::env::vars_os()
        .filter(|(name, _)| is_allowed(name, extra))
        .collect()
}

/// `sh` in serve's PATH (the commands' too), as an absolute path: with
/// the environment cleared, std spawns a program named by its path with
/// posix_spawn, a bare name with a slower fork of all of serve.
pub fn shell() -> PathBuf {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .map(|dir| dir.join("sh"))
        .find(|sh| sh.is_absolute() && sh.is_file())
        .unwrap_or_else(|| PathBuf::from("/bin/sh"))
}

fn is_allowed(name: &OsStr, extra: &[String]) -> bool {
    let Some(name) = name.to_str() else {
        return false;
    };
    matches!(name, "PATH" | "LANG" | "LANGUAGE")
        || name.starts_with("LC_")
        || name.starts_with("PSSST_")
        || extra.iter().any(|e| e == name)
}

/// Parses `--exec-env NAME`: a variable name, no `=`.
pub fn parse_name(text: &str) -> Result<String, String> {
    let valid = !text.is_empty()
        && !text.starts_with(|c: char| c.is_ascii_digit())
        && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Ok(text.to_owned())
    } else {
        Err(format!("{text:?} is not an environment variable name"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_allowlist_and_extra_names_pass() {
        let extra = ["TZ".to_owned()];
        for name in ["PATH", "LANG", "LC_ALL", "PSSST_X", "TZ"] {
            assert!(is_allowed(OsStr::new(name), &extra), "{name}");
        }
        for name in ["CREDENTIALS_DIRECTORY", "HOME", "SECRET", "path", "TZX"] {
            assert!(!is_allowed(OsStr::new(name), &extra), "{name}");
        }
    }

    #[test]
    fn exec_env_takes_names_only() {
        assert_eq!(parse_name("TZ"), Ok("TZ".to_owned()));
        for bad in ["", "A=B", "1X", "A B"] {
            assert!(parse_name(bad).is_err(), "{bad}");
        }
    }
}
