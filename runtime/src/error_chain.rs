//! An error with its causes: many libraries' own text omits them (reqwest says "error sending
//! request", tonic "tcp connect error"), and the cause is what the user needs.

/// `e` followed by each of its sources, separated by `: `, leaving out a cause whose text is
/// already there (wrappers often repeat their source's words).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("error sending request")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn causes_follow_the_error() {
        let e = Outer(std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused"));
        assert_eq!(error_chain(&e), "error sending request: connection refused");
        let repeated = Outer(std::io::Error::other("error sending request"));
        assert_eq!(error_chain(&repeated), "error sending request");
    }
}
