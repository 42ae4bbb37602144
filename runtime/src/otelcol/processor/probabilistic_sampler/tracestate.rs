//! The W3C `tracestate` header's `ot` entry (`ot=rv:<randomness>;th:<threshold>;...`): parsed
//! just enough to read and replace the sampling fields, keeping every other entry and field.

use super::math::{parse_rvalue, rvalue, Threshold};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TraceStateError {
    #[error("tracestate: malformed list member {0:?}")]
    Member(String),
    #[error("tracestate: malformed ot field {0:?}")]
    OtField(String),
    #[error("tracestate: invalid {0} value {1:?}")]
    Value(&'static str, String),
}

/// A parsed `tracestate`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TraceState {
    pub rv: Option<u64>,
    pub th: Option<Threshold>,
    /// The raw `th` text, kept as it arrived until the threshold changes.
    th_text: Option<String>,
    ot_extra: Vec<(String, String)>,
    others: Vec<String>,
}

impl TraceState {
    pub fn parse(raw: &str) -> Result<TraceState, TraceStateError> {
        let mut ts = TraceState::default();
        for member in raw.split(',').map(|m| m.trim_matches([' ', '\t'])).filter(|m| !m.is_empty()) {
            let Some((key, value)) = member.split_once('=') else { return Err(TraceStateError::Member(member.into())) };
            if key.is_empty() {
                return Err(TraceStateError::Member(member.into()));
            }
            if key != "ot" {
                ts.others.push(member.to_string());
                continue;
            }
            for field in value.split(';') {
                let Some((k, v)) = field.split_once(':') else { return Err(TraceStateError::OtField(field.into())) };
                match k {
                    "rv" => ts.rv = Some(parse_rvalue(v).ok_or_else(|| TraceStateError::Value("rv", v.into()))?),
                    "th" => ts.set_threshold_text(v)?,
                    _ => ts.ot_extra.push((k.to_string(), v.to_string())),
                }
            }
        }
        Ok(ts)
    }

    /// Sets the threshold from its `th` text, which is kept as written.
    pub fn set_threshold_text(&mut self, v: &str) -> Result<(), TraceStateError> {
        self.th = Some(Threshold::parse_tvalue(v).ok_or_else(|| TraceStateError::Value("th", v.into()))?);
        self.th_text = Some(v.to_string());
        Ok(())
    }

    pub fn set_threshold(&mut self, th: Threshold) {
        self.th_text = th.tvalue();
        self.th = self.th_text.as_ref().map(|_| th);
    }

    /// The `th` text as it will be written.
    pub fn th_text(&self) -> Option<&str> {
        self.th_text.as_deref()
    }

    pub fn clear_threshold(&mut self) {
        self.th = None;
        self.th_text = None;
    }

    /// The header again: the `ot` entry first (`rv`, `th`, then other fields), then the rest.
    pub fn serialize(&self) -> String {
        let mut ot: Vec<String> = Vec::new();
        if let Some(rv) = self.rv {
            ot.push(format!("rv:{}", rvalue(rv)));
        }
        if let Some(t) = &self.th_text {
            ot.push(format!("th:{t}"));
        }
        ot.extend(self.ot_extra.iter().map(|(k, v)| format!("{k}:{v}")));
        let mut members = Vec::with_capacity(1 + self.others.len());
        if !ot.is_empty() {
            members.push(format!("ot={}", ot.join(";")));
        }
        members.extend(self.others.iter().cloned());
        members.join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_other_vendors_and_fields() {
        let mut ts = TraceState::parse("vendor=x, ot=th:8;zz:1 ,other=y").unwrap();
        assert_eq!(ts.th, Some(Threshold(1 << 55)));
        ts.rv = Some(0xab);
        ts.set_threshold(Threshold(0xc << 52));
        assert_eq!(ts.serialize(), "ot=rv:000000000000ab;th:c;zz:1,vendor=x,other=y");
        ts.clear_threshold();
        ts.rv = None;
        assert_eq!(ts.serialize(), "ot=zz:1,vendor=x,other=y");
    }

    #[test]
    fn malformed_values_are_errors() {
        assert!(TraceState::parse("ot=th:xyz").is_err());
        assert!(TraceState::parse("ot=rv:12").is_err());
        assert!(TraceState::parse("novalue").is_err());
        assert_eq!(TraceState::parse("").unwrap().serialize(), "");
    }
}
