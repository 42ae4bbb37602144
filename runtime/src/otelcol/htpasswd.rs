//! htpasswd entries for `otelcol.auth.basic`: plain text, bcrypt (`$2a$`, `$2b$`, `$2y$`),
//! Apache's MD5 (`$apr1$`) and MD5-crypt (`$1$`), `{SHA}` and `{SSHA}` — the formats
//! `htpasswd` writes and the collector's basicauth extension reads.

use crate::basic_auth::constant_time_eq;
use base64::Engine as _;
use md5::Md5;
use sha1::{Digest, Sha1};

/// One user's stored password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    Plain(String),
    Bcrypt(String),
    /// `$apr1$` or `$1$`: the magic, the salt and the whole stored text.
    Md5Crypt {
        magic: &'static str,
        salt: String,
        stored: String,
    },
    Sha(Vec<u8>),
    Ssha {
        digest: Vec<u8>,
        salt: Vec<u8>,
    },
}

impl Entry {
    /// Classifies the password part of an htpasswd line.
    pub fn parse(stored: &str) -> Result<Entry, String> {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.decode(s).map_err(|e| format!("invalid base64 in the hash: {e}"));
        if stored.starts_with("$2a$") || stored.starts_with("$2b$") || stored.starts_with("$2y$") || stored.starts_with("$2x$") {
            return Ok(Entry::Bcrypt(stored.to_string()));
        }
        for magic in ["$apr1$", "$1$"] {
            if let Some(rest) = stored.strip_prefix(magic) {
                let salt = rest.split('$').next().unwrap_or("").to_string();
                return Ok(Entry::Md5Crypt { magic, salt, stored: stored.to_string() });
            }
        }
        if let Some(rest) = stored.strip_prefix("{SHA}") {
            return Ok(Entry::Sha(b64(rest)?));
        }
        if let Some(rest) = stored.strip_prefix("{SSHA}") {
            let raw = b64(rest)?;
            if raw.len() < 20 {
                return Err("{SSHA} hash is too short".into());
            }
            let (digest, salt) = raw.split_at(20);
            return Ok(Entry::Ssha { digest: digest.to_vec(), salt: salt.to_vec() });
        }
        if stored.starts_with("$5$") || stored.starts_with("$6$") {
            return Err("SHA-crypt ($5$, $6$) entries are not supported; use bcrypt (htpasswd -B)".into());
        }
        Ok(Entry::Plain(stored.to_string()))
    }

    pub fn verify(&self, password: &str) -> bool {
        match self {
            Entry::Plain(p) => constant_time_eq(p.as_bytes(), password.as_bytes()),
            Entry::Bcrypt(hash) => bcrypt::verify(password, hash).unwrap_or(false),
            Entry::Md5Crypt { magic, salt, stored } => constant_time_eq(md5_crypt(password.as_bytes(), salt.as_bytes(), magic).as_bytes(), stored.as_bytes()),
            Entry::Sha(digest) => constant_time_eq(&Sha1::digest(password.as_bytes()), digest),
            Entry::Ssha { digest, salt } => {
                let mut h = Sha1::new();
                h.update(password.as_bytes());
                h.update(salt);
                constant_time_eq(&h.finalize(), digest)
            }
        }
    }
}

/// Poul-Henning Kamp's MD5-crypt, which Apache's `$apr1$` uses with another magic string.
fn md5_crypt(password: &[u8], salt: &[u8], magic: &str) -> String {
    let salt = &salt[..salt.len().min(8)];
    let mut alt = Md5::new();
    alt.update(password);
    alt.update(salt);
    alt.update(password);
    let alt = alt.finalize();

    let mut ctx = Md5::new();
    ctx.update(password);
    ctx.update(magic.as_bytes());
    ctx.update(salt);
    for chunk in password.chunks(16) {
        ctx.update(&alt[..chunk.len()]);
    }
    let mut i = password.len();
    while i > 0 {
        if i & 1 == 1 {
            ctx.update([0u8]);
        } else {
            ctx.update(&password[..password.len().min(1)]);
        }
        i >>= 1;
    }
    let mut fin = ctx.finalize();
    for round in 0..1000 {
        let mut c = Md5::new();
        if round & 1 == 1 {
            c.update(password);
        } else {
            c.update(fin);
        }
        if round % 3 != 0 {
            c.update(salt);
        }
        if round % 7 != 0 {
            c.update(password);
        }
        if round & 1 == 1 {
            c.update(fin);
        } else {
            c.update(password);
        }
        fin = c.finalize();
    }

    const ITOA64: &[u8] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut out = format!("{magic}{}$", String::from_utf8_lossy(salt));
    let mut to64 = |mut v: u32, n: usize| {
        for _ in 0..n {
            out.push(ITOA64[(v & 0x3f) as usize] as char);
            v >>= 6;
        }
    };
    for (a, b, c) in [(0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5)] {
        to64((u32::from(fin[a]) << 16) | (u32::from(fin[b]) << 8) | u32::from(fin[c]), 4);
    }
    to64(u32::from(fin[11]), 2);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hashes of "secret" made by OpenSSL (`openssl passwd -apr1|-1 -salt abcdefgh secret`,
    /// `openssl sha1 -binary | base64`), and bcrypt's published test vector for "U*U".
    #[test]
    fn every_format_verifies_the_right_password_only() {
        let cases = [
            ("$apr1$abcdefgh$h9FWgUz3n9YxylKLlR5SQ/", "secret"),
            ("$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1", "secret"),
            ("{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", "secret"),
            ("{SSHA}8bX4JQDfZqtTfvnQ4ssDmWb17/FTQUxU", "secret"),
            ("$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "U*U"),
            ("plain-pass", "plain-pass"),
        ];
        for (stored, password) in cases {
            let e = Entry::parse(stored).unwrap();
            assert!(e.verify(password), "{stored} should accept {password:?}");
            assert!(!e.verify("wrong"), "{stored} accepted a wrong password");
            assert!(!e.verify(""), "{stored} accepted an empty password");
        }
    }

    #[test]
    fn unsupported_and_broken_hashes_are_errors() {
        assert!(Entry::parse("$6$salt$hash").unwrap_err().contains("not supported"));
        assert!(Entry::parse("{SHA}not base64!").is_err());
        assert!(Entry::parse("{SSHA}AAAA").is_err());
    }
}
