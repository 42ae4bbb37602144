//! HTTP basic authentication helpers shared by the `http` block, `import.http` and
//! `otelcol.auth.basic`.

use base64::Engine as _;

/// The `Authorization` value for HTTP basic authentication.
pub(crate) fn header(user: &str, pass: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}")))
}

/// The (user, password) of a basic `Authorization` value.
pub(crate) fn decode(value: &str) -> Option<(String, String)> {
    let decoded = base64::engine::general_purpose::STANDARD.decode(value.strip_prefix("Basic ")?.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, pass) = text.split_once(':')?;
    Some((user.to_string(), pass.to_string()))
}

/// Compares without an early exit, so timing does not tell how much of a guess was right.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_decode_round_trip() {
        assert_eq!(decode(&header("me", "a:b")), Some(("me".into(), "a:b".into())));
        assert_eq!(decode("Bearer x"), None);
        assert!(constant_time_eq(b"abc", b"abc") && !constant_time_eq(b"abc", b"abd") && !constant_time_eq(b"ab", b"abc"));
    }
}
