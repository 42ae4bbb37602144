//! The value model: numbers with upstream's int / uint / float kinds,
//! byte strings, bools, null, arrays, objects, functions, capsules and the two secret types.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use indexmap::IndexMap;
use smol_str::SmolStr;

use crate::function::Function;
use crate::number::Number;

/// The language-level type of a value, named as in error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    Null,
    Number,
    String,
    Bool,
    Array,
    Object,
    Function,
    Capsule,
}

impl Type {
    pub fn as_str(self) -> &'static str {
        match self {
            Type::Null => "null",
            Type::Number => "number",
            Type::String => "string",
            Type::Bool => "bool",
            Type::Array => "array",
            Type::Object => "object",
            Type::Function => "function",
            Type::Capsule => "capsule",
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An immutable byte string (strings in Alloy may hold invalid UTF-8, e.g. `"\xff"`).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Str(Arc<[u8]>);

impl Str {
    pub fn new(bytes: impl Into<Arc<[u8]>>) -> Self {
        Str(bytes.into())
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The text, with invalid UTF-8 replaced by U+FFFD.
    pub fn to_string_lossy(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.0)
    }

    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<&str> for Str {
    fn from(s: &str) -> Self {
        Str(Arc::from(s.as_bytes()))
    }
}

impl From<String> for Str {
    fn from(s: String) -> Self {
        Str(Arc::from(s.into_bytes()))
    }
}

impl From<Vec<u8>> for Str {
    fn from(b: Vec<u8>) -> Self {
        Str(Arc::from(b))
    }
}

impl From<&[u8]> for Str {
    fn from(b: &[u8]) -> Self {
        Str(Arc::from(b))
    }
}

impl fmt::Debug for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&syntax::quote::go_quote_bytes(&self.0))
    }
}

/// A sensitive string. Its text is reachable only through [`Secret::expose`]; `Debug` and
/// every rendering print `(secret)`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Secret(Str);

impl Secret {
    pub fn new(text: impl Into<Str>) -> Self {
        Secret(text.into())
    }

    /// The secret text. Call sites are the only places a secret can leak; keep them few.
    pub fn expose(&self) -> &Str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(secret)")
    }
}

/// A string that may or may not be sensitive (`alloytypes.OptionalSecret`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct OptionalSecret {
    text: Str,
    pub is_secret: bool,
}

impl OptionalSecret {
    pub fn new(text: impl Into<Str>, is_secret: bool) -> Self {
        OptionalSecret { text: text.into(), is_secret }
    }

    pub fn expose(&self) -> &Str {
        &self.text
    }
}

impl fmt::Debug for OptionalSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_secret {
            f.write_str("(secret)")
        } else {
            write!(f, "{:?}", self.text)
        }
    }
}

/// What a host value stored in a capsule must provide.
pub trait CapsuleValue: Any + Send + Sync + fmt::Debug {
    /// The host type name shown as `capsule("<name>")` (e.g. `otelcol.Consumer`).
    fn type_name(&self) -> &str;
    /// Deep equality with another capsule's host value.
    fn equals(&self, other: &dyn CapsuleValue) -> bool;
    /// Capsules that can present themselves as objects (field access, rendering).
    fn to_object(&self) -> Option<Object> {
        None
    }
    /// A `String()`-like text used by the JSON encoding when non-empty.
    fn display(&self) -> Option<String> {
        None
    }
    /// The global ID of the component that made this value (a receiver it exports), if any.
    fn owner(&self) -> Option<&str> {
        None
    }
    /// Whether the host value is its type's zero value (`coalesce` skips those).
    fn is_zero(&self) -> bool {
        false
    }
    fn as_any(&self) -> &dyn Any;
}

/// An opaque host value.
#[derive(Clone)]
pub struct Capsule(pub Arc<dyn CapsuleValue>);

impl Capsule {
    pub fn new(v: impl CapsuleValue) -> Self {
        Capsule(Arc::new(v))
    }

    pub fn type_name(&self) -> &str {
        self.0.type_name()
    }

    pub fn downcast_ref<T: 'static>(&self) -> Option<&T> {
        self.0.as_any().downcast_ref::<T>()
    }
}

impl fmt::Debug for Capsule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "capsule({:?})", self.type_name())
    }
}

impl PartialEq for Capsule {
    fn eq(&self, other: &Self) -> bool {
        self.0.equals(other.0.as_ref())
    }
}

/// A string-keyed mapping. Map objects (literals, decoded JSON…) have no key order and are
/// rendered sorted; struct-like objects keep their declaration order.
#[derive(Clone, Debug, Default)]
pub struct Object {
    fields: IndexMap<SmolStr, Value>,
    ordered: bool,
}

impl Object {
    /// An unordered (map) object.
    pub fn new() -> Self {
        Object::default()
    }

    pub fn with_capacity(n: usize) -> Self {
        Object { fields: IndexMap::with_capacity(n), ordered: false }
    }

    /// An object whose keys keep insertion order (a host struct).
    pub fn ordered() -> Self {
        Object { fields: IndexMap::new(), ordered: true }
    }

    pub fn is_ordered(&self) -> bool {
        self.ordered
    }

    pub fn insert(&mut self, key: impl Into<SmolStr>, value: Value) {
        self.fields.insert(key.into(), value);
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.fields.get(key)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.fields.contains_key(key)
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Entries in storage order (insertion order).
    pub fn iter(&self) -> impl Iterator<Item = (&SmolStr, &Value)> {
        self.fields.iter()
    }

    /// Entries in presentation order: declaration order for ordered objects, else sorted by
    /// key bytes.
    pub fn entries(&self) -> Vec<(&SmolStr, &Value)> {
        let mut v: Vec<_> = self.fields.iter().collect();
        if !self.ordered {
            v.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        }
        v
    }

    pub fn keys(&self) -> impl Iterator<Item = &SmolStr> {
        self.fields.keys()
    }
}

impl FromIterator<(SmolStr, Value)> for Object {
    fn from_iter<I: IntoIterator<Item = (SmolStr, Value)>>(iter: I) -> Self {
        Object { fields: iter.into_iter().collect(), ordered: false }
    }
}

/// An Alloy value. Cloning is cheap: composite values are reference counted.
#[derive(Clone, Debug, Default)]
pub enum Value {
    #[default]
    Null,
    Number(Number),
    String(Str),
    Bool(bool),
    Array(Arc<[Value]>),
    /// A host byte slice: an array of numbers in the language that converts to a string at
    /// typed boundaries.
    Bytes(Arc<[u8]>),
    Object(Arc<Object>),
    Function(Function),
    Capsule(Capsule),
    Secret(Secret),
    OptionalSecret(OptionalSecret),
}

impl Value {
    pub fn ty(&self) -> Type {
        match self {
            Value::Null => Type::Null,
            Value::Number(_) => Type::Number,
            Value::String(_) => Type::String,
            Value::Bool(_) => Type::Bool,
            Value::Array(_) | Value::Bytes(_) => Type::Array,
            Value::Object(_) => Type::Object,
            Value::Function(_) => Type::Function,
            Value::Capsule(_) | Value::Secret(_) | Value::OptionalSecret(_) => Type::Capsule,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn int(i: i64) -> Value {
        Value::Number(Number::Int(i))
    }

    pub fn uint(u: u64) -> Value {
        Value::Number(Number::Uint(u))
    }

    pub fn float(f: f64) -> Value {
        Value::Number(Number::Float(f))
    }

    pub fn string(s: impl Into<Str>) -> Value {
        Value::String(s.into())
    }

    pub fn array(items: Vec<Value>) -> Value {
        Value::Array(items.into())
    }

    pub fn object(o: Object) -> Value {
        Value::Object(Arc::new(o))
    }

    pub fn secret(s: impl Into<Str>) -> Value {
        Value::Secret(Secret::new(s))
    }

    pub fn optional_secret(s: impl Into<Str>, is_secret: bool) -> Value {
        Value::OptionalSecret(OptionalSecret::new(s, is_secret))
    }

    /// Number of elements of an array (or bytes) or fields of an object.
    pub fn len(&self) -> Option<usize> {
        match self {
            Value::Array(a) => Some(a.len()),
            Value::Bytes(b) => Some(b.len()),
            Value::Object(o) => Some(o.len()),
            _ => None,
        }
    }

    /// Whether an array or object has no elements (other values: false).
    pub fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }

    /// Element `i` of an array (bytes give numbers).
    pub fn index(&self, i: usize) -> Option<Value> {
        match self {
            Value::Array(a) => a.get(i).cloned(),
            Value::Bytes(b) => b.get(i).map(|&x| Value::uint(x as u64)),
            _ => None,
        }
    }

    /// The object this value is or can present itself as (object-convertible capsules).
    pub fn as_object(&self) -> Option<std::borrow::Cow<'_, Object>> {
        match self {
            Value::Object(o) => Some(std::borrow::Cow::Borrowed(o.as_ref())),
            Value::Capsule(c) => c.0.to_object().map(std::borrow::Cow::Owned),
            _ => None,
        }
    }

    /// Elements of an array value as owned values (bytes become numbers).
    pub fn array_items(&self) -> Option<Vec<Value>> {
        matches!(self, Value::Array(_) | Value::Bytes(_)).then(|| self.items().collect())
    }

    /// Elements of an array value one by one, without collecting them (bytes become
    /// numbers); nothing for other values.
    pub fn items(&self) -> impl Iterator<Item = Value> + '_ {
        let (values, bytes): (&[Value], &[u8]) = match self {
            Value::Array(a) => (a, &[]),
            Value::Bytes(b) => (&[], b),
            _ => (&[], &[]),
        };
        values.iter().cloned().chain(bytes.iter().map(|&x| Value::uint(x as u64)))
    }

    /// The sub-value reached by `path`, if any.
    pub fn at_path(&self, path: &[crate::error::PathSeg]) -> Option<Value> {
        let mut cur = self.clone();
        for seg in path {
            cur = match seg {
                crate::error::PathSeg::Index(i) => cur.index(*i)?,
                crate::error::PathSeg::Field(k) => cur.as_object()?.get(k)?.clone(),
            };
        }
        Some(cur)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::int(i)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::string(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

/// Upstream's equality: different types are unequal, numbers compare after kind
/// unification, functions are never equal, capsules compare deeply.
pub fn values_equal(a: &Value, b: &Value) -> bool {
    if a.ty() != b.ty() {
        return false;
    }
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Number(x), Value::Number(y)) => x.equals(*y),
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Bytes(x), Value::Bytes(y)) => x == y,
        (Value::Array(_) | Value::Bytes(_), Value::Array(_) | Value::Bytes(_)) => {
            let (n, m) = (a.len().unwrap_or(0), b.len().unwrap_or(0));
            n == m
                && (0..n).all(|i| match (a.index(i), b.index(i)) {
                    (Some(x), Some(y)) => values_equal(&x, &y),
                    _ => false,
                })
        }
        (Value::Object(x), Value::Object(y)) => x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| values_equal(v, w))),
        (Value::Function(_), Value::Function(_)) => false,
        (Value::Secret(x), Value::Secret(y)) => x == y,
        (Value::OptionalSecret(x), Value::OptionalSecret(y)) => x == y,
        (Value::Capsule(x), Value::Capsule(y)) => x == y,
        _ => false,
    }
}
