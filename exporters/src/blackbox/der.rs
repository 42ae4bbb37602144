//! Just enough DER to read what the TLS metrics report of a certificate: its expiry (`NotAfter`), its subject and
//! issuer as Go's `pkix.Name.String()` prints them, and its DNS names.

/// One tag-length-value: the tag byte, the contents, and the whole encoding.
#[derive(Clone, Copy)]
struct Tlv<'a> {
    tag: u8,
    content: &'a [u8],
    raw: &'a [u8],
}

fn next<'a>(input: &mut &'a [u8]) -> Option<Tlv<'a>> {
    let all = *input;
    let tag = *all.first()?;
    if tag & 0x1f == 0x1f {
        return None; // multi-byte tags do not occur in what is read here
    }
    let first = *all.get(1)?;
    let (len, header) = if first < 0x80 {
        (first as usize, 2)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *all.get(2 + i)? as usize;
        }
        (len, 2 + n)
    };
    let end = header.checked_add(len)?;
    let raw = all.get(..end)?;
    *input = &all[end..];
    Some(Tlv { tag, content: &raw[header..], raw })
}

fn children(content: &[u8]) -> Vec<Tlv<'_>> {
    let mut input = content;
    let mut out = Vec::new();
    while let Some(t) = next(&mut input) {
        out.push(t);
    }
    out
}

/// What the probes report of one certificate.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct CertInfo {
    /// `NotAfter` in Unix seconds.
    pub not_after: i64,
    pub subject: String,
    pub issuer: String,
    pub dns_names: Vec<String>,
}

/// Reads a DER certificate; `None` when it is not one.
pub(crate) fn parse_certificate(der: &[u8]) -> Option<CertInfo> {
    let mut input = der;
    let cert = next(&mut input)?;
    let tbs = *children(cert.content).first()?;
    let mut fields = children(tbs.content).into_iter().peekable();
    if fields.peek()?.tag == 0xa0 {
        fields.next(); // version
    }
    let _serial = fields.next()?;
    let _sig = fields.next()?;
    let issuer = fields.next()?;
    let validity = fields.next()?;
    let subject = fields.next()?;
    let times = children(validity.content);
    let not_after = parse_time(times.get(1)?)?;
    let mut dns_names = Vec::new();
    for f in fields {
        if f.tag != 0xa3 {
            continue;
        }
        let Some(exts) = children(f.content).first().copied() else { continue };
        for ext in children(exts.content) {
            let parts = children(ext.content);
            let Some(oid) = parts.first() else { continue };
            // subjectAltName, 2.5.29.17
            if oid.content != [0x55, 0x1d, 0x11] {
                continue;
            }
            let Some(value) = parts.iter().rev().find(|p| p.tag == 0x04) else { continue };
            let Some(names) = children(value.content).first().copied() else { continue };
            for name in children(names.content) {
                if name.tag == 0x82 {
                    dns_names.push(String::from_utf8_lossy(name.content).into_owned());
                }
            }
        }
    }
    Some(CertInfo { not_after, subject: name_string(subject.content), issuer: name_string(issuer.content), dns_names })
}

/// UTCTime (`YYMMDDHHMMSSZ`, years 50-99 are 19xx) or GeneralizedTime (`YYYYMMDDHHMMSSZ`) as Unix seconds.
fn parse_time(t: &Tlv<'_>) -> Option<i64> {
    let s = std::str::from_utf8(t.content).ok()?;
    let s = s.strip_suffix('Z')?;
    let (year, rest) = match t.tag {
        0x17 => {
            let yy: i64 = s.get(..2)?.parse().ok()?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, s.get(2..)?)
        }
        0x18 => (s.get(..4)?.parse().ok()?, s.get(4..)?),
        _ => return None,
    };
    let num = |r: std::ops::Range<usize>| -> Option<i64> { rest.get(r)?.parse().ok() };
    let (month, day, hour, min, sec) = (num(0..2)?, num(2..4)?, num(4..6)?, num(6..8)?, num(8..10)?);
    Some(days_since_epoch(year, month, day) * 86_400 + hour * 3600 + min * 60 + sec)
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub(crate) fn days_since_epoch(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The attribute types Go names (`attributeTypeNames`), by the last arc of `2.5.4.x`.
fn attribute_name(oid: &[u8]) -> Option<&'static str> {
    if oid.len() != 3 || oid[..2] != [0x55, 0x04] {
        return None;
    }
    Some(match oid[2] {
        3 => "CN",
        5 => "SERIALNUMBER",
        6 => "C",
        7 => "L",
        8 => "ST",
        9 => "STREET",
        10 => "O",
        11 => "OU",
        17 => "POSTALCODE",
        _ => return None,
    })
}

fn oid_string(oid: &[u8]) -> String {
    let mut arcs: Vec<u64> = Vec::new();
    let mut v: u64 = 0;
    for (i, b) in oid.iter().enumerate() {
        v = (v << 7) | (b & 0x7f) as u64;
        if b & 0x80 == 0 {
            if arcs.is_empty() && i < oid.len() {
                let first = (v / 40).min(2);
                arcs.push(first);
                arcs.push(v - first * 40);
            } else {
                arcs.push(v);
            }
            v = 0;
        }
    }
    arcs.iter().map(u64::to_string).collect::<Vec<_>>().join(".")
}

/// Whether DER tag `t` is one Go's asn1 reads into a `string`.
fn is_string_tag(t: u8) -> bool {
    matches!(t, 0x0c | 0x12 | 0x13 | 0x14 | 0x16 | 0x1e)
}

fn string_value(t: &Tlv<'_>) -> String {
    if t.tag == 0x1e {
        // BMPString: UTF-16BE.
        let units: Vec<u16> = t.content.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
        return String::from_utf16_lossy(&units);
    }
    String::from_utf8_lossy(t.content).into_owned()
}

/// Go's `asn1.Marshal` of a value read into an `interface{}`: strings come back as PrintableString when they can,
/// else UTF8String; other values as they were.
fn remarshal(t: &Tlv<'_>) -> Vec<u8> {
    if !is_string_tag(t.tag) {
        return t.raw.to_vec();
    }
    let s = string_value(t);
    let printable = s.chars().all(|c| c.is_ascii_alphanumeric() || " '()+,-./:=?".contains(c));
    let tag = if printable { 0x13 } else { 0x0c };
    let mut out = vec![tag];
    let len = s.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend(s.as_bytes());
    out
}

fn escape(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let mut out = String::new();
    for (k, &c) in chars.iter().enumerate() {
        let esc = match c {
            ',' | '+' | '"' | '\\' | '<' | '>' | ';' => true,
            ' ' => k == 0 || k == chars.len() - 1,
            '#' => k == 0,
            _ => false,
        };
        if esc {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Go's `pkix.Name.String()` of a DER `Name`: the attributes Go parses into fields first (in the fixed order of
/// `ToRDNSequence`), others before them, and the whole sequence printed last-to-first.
fn name_string(content: &[u8]) -> String {
    // Every (type, value) of every RDN, in order.
    let mut atvs: Vec<(Tlv<'_>, Tlv<'_>)> = Vec::new();
    for set in children(content) {
        for atv in children(set.content) {
            let parts = children(atv.content);
            if let (Some(t), Some(v)) = (parts.first(), parts.get(1)) {
                atvs.push((*t, *v));
            }
        }
    }
    // One RDN is a list of (type name or OID, printed value) joined by '+'.
    let mut rdns: Vec<Vec<String>> = Vec::new();
    for (t, v) in &atvs {
        if attribute_name(t.content).is_none() {
            let hex: String = remarshal(v).iter().map(|b| format!("{b:02x}")).collect();
            rdns.push(vec![format!("{}=#{hex}", oid_string(t.content))]);
        }
    }
    let values = |name: &str| -> Vec<String> {
        atvs.iter().filter(|(t, v)| attribute_name(t.content) == Some(name) && is_string_tag(v.tag)).map(|(_, v)| string_value(v)).collect()
    };
    for name in ["C", "ST", "L", "STREET", "POSTALCODE", "O", "OU"] {
        let vs = values(name);
        if !vs.is_empty() {
            rdns.push(vs.iter().map(|v| format!("{name}={}", escape(v))).collect());
        }
    }
    for name in ["CN", "SERIALNUMBER"] {
        if let Some(last) = values(name).last().filter(|v| !v.is_empty()) {
            rdns.push(vec![format!("{name}={}", escape(last))]);
        }
    }
    rdns.iter().rev().map(|r| r.join("+")).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_days() {
        assert_eq!(days_since_epoch(1970, 1, 1), 0);
        assert_eq!(days_since_epoch(2000, 3, 1), 11_017);
    }

    #[test]
    fn oids() {
        assert_eq!(oid_string(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01]), "1.2.840.113549.1.9.1");
    }

    #[test]
    fn escaping_as_go() {
        assert_eq!(escape("a,b"), "a\\,b");
        assert_eq!(escape(" x "), "\\ x\\ ");
        assert_eq!(escape("#x#"), "\\#x#");
    }
}
