//! Reads only the top-level fields a `stage.json` needs from a JSON object: the other values
//! are checked for syntax and skipped without being built, which is most of the cost of a
//! line with many fields. What is malformed for a full parse (not an object, bad syntax
//! anywhere, trailing text) is malformed here too; a repeated field keeps its last value.

use std::fmt;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;

/// The values of `names` in the object `text` (`None` for an absent field), or `None` when
/// `text` is not a JSON object.
pub fn top_level_fields<S: AsRef<str>>(text: &str, names: &[S]) -> Option<Vec<Option<Value>>> {
    let mut de = serde_json::Deserializer::from_str(text);
    let found = serde::Deserializer::deserialize_map(&mut de, Fields { names }).ok()?;
    de.end().ok()?;
    Some(found)
}

struct Fields<'n, S> {
    names: &'n [S],
}

impl<'de, S: AsRef<str>> Visitor<'de> for Fields<'_, S> {
    type Value = Vec<Option<Value>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = vec![None; self.names.len()];
        while let Some(wanted) = map.next_key_seed(Key { names: self.names })? {
            match wanted {
                Some(i) => found[i] = Some(map.next_value::<Value>()?),
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(found)
    }
}

/// A key, as the index of the wanted name it is (without allocating for unescaped keys).
struct Key<'n, S> {
    names: &'n [S],
}

impl<'de, S: AsRef<str>> DeserializeSeed<'de> for Key<'_, S> {
    type Value = Option<usize>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de, S: AsRef<str>> Visitor<'de> for Key<'_, S> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: serde::de::Error>(self, k: &str) -> Result<Self::Value, E> {
        Ok(self.names.iter().position(|n| n.as_ref() == k))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_the_named_fields_and_skips_the_rest() {
        let got = top_level_fields(r#"{"a":1,"b":{"c":[1,2]},"d":"x\ty","a":2}"#, &["a", "b", "zz", "d"]).expect("an object");
        assert_eq!(got, vec![Some(json!(2)), Some(json!({"c": [1, 2]})), None, Some(json!("x\ty"))]);
        assert_eq!(top_level_fields(r#"{"k\u0065y":true}"#, &["key"]), Some(vec![Some(json!(true))]), "escaped keys compare by their text");
    }

    #[test]
    fn what_a_full_parse_refuses_is_refused() {
        for text in [r#"[1]"#, r#""s""#, r#"{"a":1} x"#, r#"{"a":1,"b":[1,}"#, r#"{"a":"#, "", "{\"a\":1,}"] {
            let full = serde_json::from_str::<Value>(text).ok().filter(Value::is_object);
            assert_eq!(top_level_fields(text, &["a"]).is_some(), full.is_some(), "{text:?}");
        }
    }
}
