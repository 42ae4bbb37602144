//! Go's `fmt` as templates print values: `%v` (what an action prints), `Sprint`,
//! `Sprintln` and `Sprintf` with the common verbs, flags, width and precision.

use syntax::quote::go_quote;

use super::TVal;

/// What an action prints: a missing value is `<no value>`, anything else its `%v`.
pub(super) fn action(v: &TVal) -> String {
    match v {
        TVal::Nil => "<no value>".into(),
        TVal::Str(s) => s.clone(),
        v => value(v),
    }
}

/// Go's `%v`.
pub(super) fn value(v: &TVal) -> String {
    let mut out = String::new();
    verb_into(&mut out, v, 'v', &Spec::default());
    out
}

/// Go's `fmt.Sprint`: operands' `%v`, with a space between two that are not strings.
pub(super) fn sprint(args: &[TVal]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 && !matches!(a, TVal::Str(_)) && !matches!(args[i - 1], TVal::Str(_)) {
            out.push(' ');
        }
        out.push_str(&value(a));
    }
    out
}

/// Go's `fmt.Sprintln`: operands' `%v` separated by spaces, and a newline.
pub(super) fn sprintln(args: &[TVal]) -> String {
    let mut out = args.iter().map(value).collect::<Vec<_>>().join(" ");
    out.push('\n');
    out
}

#[derive(Default, Clone, Copy)]
struct Spec {
    minus: bool,
    plus: bool,
    space: bool,
    zero: bool,
    sharp: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

/// Go's `fmt.Sprintf`.
pub(super) fn sprintf(format: &str, args: &[TVal]) -> String {
    let mut out = String::with_capacity(format.len());
    let mut next = 0;
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = Spec::default();
        while let Some(&f) = chars.peek() {
            match f {
                '-' => spec.minus = true,
                '+' => spec.plus = true,
                ' ' => spec.space = true,
                '0' => spec.zero = true,
                '#' => spec.sharp = true,
                _ => break,
            }
            chars.next();
        }
        let number = |chars: &mut std::iter::Peekable<std::str::Chars>| {
            let mut n: Option<usize> = None;
            while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
                n = Some(n.unwrap_or(0).saturating_mul(10).saturating_add(d as usize).min(1 << 20));
                chars.next();
            }
            n
        };
        spec.width = number(&mut chars);
        if chars.peek() == Some(&'.') {
            chars.next();
            spec.prec = Some(number(&mut chars).unwrap_or(0));
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        match args.get(next) {
            None => out.push_str(&format!("%!{verb}(MISSING)")),
            Some(a) => {
                let mut s = String::new();
                verb_into(&mut s, a, verb, &spec);
                out.push_str(&s);
            }
        }
        next += 1;
    }
    if next < args.len() {
        let extra: Vec<String> = args[next..].iter().map(|a| format!("{}={}", a.type_name(), value(a))).collect();
        out.push_str(&format!("%!(EXTRA {})", extra.join(", ")));
    }
    out
}

/// Pads `s` to the spec's width (with zeros after any sign when `zero_ok`).
fn pad(out: &mut String, s: &str, spec: &Spec, zero_ok: bool) {
    let len = s.chars().count();
    let Some(width) = spec.width.filter(|w| *w > len) else {
        out.push_str(s);
        return;
    };
    let fill = width - len;
    if spec.minus {
        out.push_str(s);
        out.extend(std::iter::repeat_n(' ', fill));
    } else if spec.zero && zero_ok {
        let sign = s.starts_with(['-', '+', ' ']);
        if sign {
            out.push_str(&s[..1]);
        }
        out.extend(std::iter::repeat_n('0', fill));
        out.push_str(if sign { &s[1..] } else { s });
    } else {
        out.extend(std::iter::repeat_n(' ', fill));
        out.push_str(s);
    }
}

fn bad_verb(out: &mut String, v: &TVal, verb: char) {
    match v {
        TVal::Nil => out.push_str(&format!("%!{verb}(<nil>)")),
        v => out.push_str(&format!("%!{verb}({}={})", v.type_name(), value(v))),
    }
}

fn verb_into(out: &mut String, v: &TVal, verb: char, spec: &Spec) {
    match v {
        TVal::Nil => match verb {
            'v' | 's' => pad(out, "<nil>", spec, false),
            _ => bad_verb(out, v, verb),
        },
        TVal::Str(s) => match verb {
            'v' | 's' => pad(out, truncate(s, spec.prec), spec, false),
            'q' => pad(out, &go_quote(truncate(s, spec.prec)), spec, false),
            'x' | 'X' => {
                let hex: String = s.bytes().map(|b| if verb == 'x' { format!("{b:02x}") } else { format!("{b:02X}") }).collect();
                pad(out, &hex, spec, false)
            }
            _ => bad_verb(out, v, verb),
        },
        TVal::Bool(b) => match verb {
            'v' | 't' => pad(out, if *b { "true" } else { "false" }, spec, false),
            _ => bad_verb(out, v, verb),
        },
        TVal::Int(i) => int_into(out, v, *i, verb, spec),
        TVal::Float(f) => float_into(out, v, *f, verb, spec),
        TVal::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                verb_into(out, item, verb, spec);
            }
            out.push(']');
        }
        TVal::Map(m) => {
            out.push_str("map[");
            for (i, (k, item)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                verb_into(out, &TVal::Str(k.clone()), verb, spec);
                out.push(':');
                verb_into(out, item, verb, spec);
            }
            out.push(']');
        }
        TVal::StrMap(m) => {
            let m = m.iter().map(|(k, v)| (k.clone(), TVal::Str(v.clone()))).collect();
            verb_into(out, &TVal::Map(m), verb, spec);
        }
    }
}

/// The first `prec` characters of `s` (all without a precision).
fn truncate(s: &str, prec: Option<usize>) -> &str {
    match prec.and_then(|p| s.char_indices().nth(p)) {
        Some((cut, _)) => &s[..cut],
        None => s,
    }
}

fn int_into(out: &mut String, v: &TVal, i: i64, verb: char, spec: &Spec) {
    let digits = match verb {
        'v' | 'd' => i.unsigned_abs().to_string(),
        'b' => format!("{:b}", i.unsigned_abs()),
        'o' | 'O' => format!("{:o}", i.unsigned_abs()),
        'x' => format!("{:x}", i.unsigned_abs()),
        'X' => format!("{:X}", i.unsigned_abs()),
        'c' | 'q' | 'U' => {
            let ch = u32::try_from(i).ok().and_then(char::from_u32).unwrap_or('\u{FFFD}');
            let s = match verb {
                'c' => ch.to_string(),
                'q' => format!("'{}'", go_quote(&ch.to_string()).trim_matches('"').replace("\\\"", "\"").replace('\'', "\\'")),
                _ => format!("U+{:04X}", u32::try_from(i).unwrap_or(0xFFFD)),
            };
            return pad(out, &s, spec, false);
        }
        _ => return bad_verb(out, v, verb),
    };
    let digits = match spec.prec {
        Some(p) if digits.len() < p => format!("{}{digits}", "0".repeat(p - digits.len())),
        Some(0) if i == 0 => String::new(),
        _ => digits,
    };
    let prefix = match (verb, spec.sharp) {
        ('O', _) => "0o",
        ('b', true) => "0b",
        ('o', true) if !digits.starts_with('0') => "0",
        ('x', true) => "0x",
        ('X', true) => "0X",
        _ => "",
    };
    let sign = if i < 0 {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    };
    pad(out, &format!("{sign}{prefix}{digits}"), spec, spec.prec.is_none())
}

fn float_into(out: &mut String, v: &TVal, f: f64, verb: char, spec: &Spec) {
    let body = if f.is_nan() {
        "NaN".to_string()
    } else if f.is_infinite() {
        if f > 0.0 { "+Inf" } else { "-Inf" }.to_string()
    } else {
        match verb {
            'v' | 'g' | 'G' => format_g(f, spec.prec, verb == 'G'),
            'e' | 'E' => format_e(f, spec.prec.unwrap_or(6), verb == 'E'),
            'f' | 'F' => format!("{:.*}", spec.prec.unwrap_or(6), f),
            _ => return bad_verb(out, v, verb),
        }
    };
    let body = if body.starts_with(['-', '+']) || f.is_nan() {
        body
    } else if spec.plus {
        format!("+{body}")
    } else if spec.space {
        format!(" {body}")
    } else {
        body
    };
    pad(out, &body, spec, f.is_finite())
}

/// Digits and decimal exponent of `f` to `sig` significant digits (shortest when `None`).
fn digits_exp(f: f64, sig: Option<usize>) -> (String, i32) {
    let e = match sig {
        Some(p) => format!("{:.*e}", p.max(1) - 1, f.abs()),
        None => format!("{:e}", f.abs()),
    };
    let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0"));
    (mantissa.replace('.', ""), exp.parse().unwrap_or(0))
}

fn exponent(exp: i32, upper: bool) -> String {
    format!("{}{}{:02}", if upper { 'E' } else { 'e' }, if exp < 0 { '-' } else { '+' }, exp.unsigned_abs())
}

fn format_e(f: f64, prec: usize, upper: bool) -> String {
    let (digits, exp) = digits_exp(f, Some(prec + 1));
    let sign = if f.is_sign_negative() { "-" } else { "" };
    let frac = if prec > 0 { format!(".{}", &digits[1..]) } else { String::new() };
    format!("{sign}{}{frac}{}", &digits[..1], exponent(exp, upper))
}

/// `%g`: `%e` form for small or large exponents, else plain; trailing zeros dropped.
fn format_g(f: f64, prec: Option<usize>, upper: bool) -> String {
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let (digits, exp) = digits_exp(f, prec.map(|p| p.max(1)));
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    let nd = digits.len() as i32;
    // Go's `strconv.FormatFloat(f, 'g', -1, 64)`: the shortest digits, in `%e` form for
    // exponents below -4 or from 6 up (`1e+06`).
    let eprec = match prec {
        None => 6,
        Some(p) => {
            let p = p.max(1) as i32;
            if p > nd && nd > exp {
                nd
            } else {
                p
            }
        }
    };
    let sign = if f.is_sign_negative() { "-" } else { "" };
    if exp < -4 || exp >= eprec {
        let frac = if nd > 1 { format!(".{}", &digits[1..]) } else { String::new() };
        return format!("{sign}{}{frac}{}", &digits[..1], exponent(exp, upper));
    }
    if exp < 0 {
        return format!("{sign}0.{}{digits}", "0".repeat((-exp - 1) as usize));
    }
    let int_len = (exp + 1) as usize;
    if digits.len() <= int_len {
        format!("{sign}{digits}{}", "0".repeat(int_len - digits.len()))
    } else {
        format!("{sign}{}.{}", &digits[..int_len], &digits[int_len..])
    }
}
