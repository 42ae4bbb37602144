//! The operators that move fields around: `add`, `remove`, `move`, `copy`, `retain`,
//! `flatten`, `assign_keys` and `noop`.

use std::collections::BTreeMap;

use super::config::Conf;
use super::entry::{Entry, Field, Root, Val};
use super::{edit, Edit, Operator};

struct Add {
    field: Field,
    value: Val,
}

pub fn add(c: &mut Conf<'_>) -> Box<dyn Operator> {
    let field = c.required_field("field", "add");
    let value = c.value("value").cloned();
    if value.is_none() {
        c.error("", "missing required field \"value\" for operator type \"add\"");
    }
    if let Some(Val::Str(s)) = &value {
        if s.starts_with("EXPR(") && s.ends_with(')') {
            c.error("value", "EXPR(...) values are not supported by this runtime yet");
        }
    }
    edit(Add { field, value: value.unwrap_or_default() })
}

impl Edit for Add {
    fn edit(&self, e: &mut Entry) -> Result<bool, String> {
        self.field.set(e, self.value.clone());
        Ok(true)
    }
}

struct Remove(Field);

pub fn remove(c: &mut Conf<'_>) -> Box<dyn Operator> {
    edit(Remove(c.required_field("field", "remove")))
}

impl Edit for Remove {
    fn edit(&self, e: &mut Entry) -> Result<bool, String> {
        match self.0.delete(e) {
            Some(_) => Ok(true),
            None => Err(format!("remove: field does not exist: {}", self.0)),
        }
    }
}

/// `move` and `copy`: the value at `from` is set at `to`; `move` removes it from `from`.
struct Relocate {
    from: Field,
    to: Field,
    keep_source: bool,
}

fn relocate(c: &mut Conf<'_>, ty: &str, keep_source: bool) -> Box<dyn Operator> {
    let from = c.required_field("from", ty);
    let to = c.required_field("to", ty);
    edit(Relocate { from, to, keep_source })
}

pub fn move_op(c: &mut Conf<'_>) -> Box<dyn Operator> {
    relocate(c, "move", false)
}

pub fn copy(c: &mut Conf<'_>) -> Box<dyn Operator> {
    relocate(c, "copy", true)
}

impl Edit for Relocate {
    fn edit(&self, e: &mut Entry) -> Result<bool, String> {
        let (verb, value) = if self.keep_source { ("copy", self.from.get(e).cloned()) } else { ("move", self.from.delete(e)) };
        let value = value.ok_or_else(|| format!("{verb}: field does not exist: {}", self.from))?;
        self.to.set(e, value);
        Ok(true)
    }
}

/// `retain`: within each of body (when a map), attributes and resource that a listed field
/// names, only the listed keys stay; the others are left as they are.
struct Retain(Vec<Field>);

pub fn retain(c: &mut Conf<'_>) -> Box<dyn Operator> {
    let mut fields = Vec::new();
    for text in c.list_of_strings("fields") {
        match Field::parse(&text) {
            Ok(f) if !f.keys.is_empty() => fields.push(f),
            Ok(_) => c.error("fields", format!("{text} is a whole part of the entry: retain keeps keys inside it")),
            Err(e) => c.error("fields", e),
        }
    }
    if fields.is_empty() && c.errors.is_empty() {
        c.error("", "missing required field \"fields\" for operator type \"retain\"");
    }
    edit(Retain(fields))
}

impl Edit for Retain {
    fn edit(&self, e: &mut Entry) -> Result<bool, String> {
        let mut kept = Entry { timestamp: e.timestamp, ..Default::default() };
        for root in [Root::Body, Root::Attributes, Root::Resource] {
            let mine: Vec<&Field> = self.0.iter().filter(|f| f.root == root).collect();
            if mine.is_empty() {
                continue;
            }
            for f in &mine {
                if let Some(v) = f.get(e) {
                    f.set(&mut kept, v.clone());
                }
            }
            match root {
                Root::Body if matches!(e.body, Val::Map(_)) => e.body = std::mem::take(&mut kept.body),
                Root::Body => {}
                Root::Attributes => e.attributes = std::mem::take(&mut kept.attributes),
                Root::Resource => e.resource = std::mem::take(&mut kept.resource),
            }
        }
        Ok(true)
    }
}

/// `flatten`: a map inside the body is replaced by its keys, one level up.
struct Flatten(Field);

pub fn flatten(c: &mut Conf<'_>) -> Box<dyn Operator> {
    let field = c.required_field("field", "flatten");
    if field.root != Root::Body || field.keys.is_empty() {
        c.error("field", format!("invalid field type: {field} (flatten works on a field inside the body)"));
    }
    edit(Flatten(field))
}

impl Edit for Flatten {
    fn edit(&self, e: &mut Entry) -> Result<bool, String> {
        let map: BTreeMap<String, Val> = match self.0.get(e) {
            Some(Val::Map(m)) => m.clone(),
            Some(_) => return Err(format!("flatten: {} is not a map", self.0)),
            None => return Err(format!("flatten: field does not exist: {}", self.0)),
        };
        self.0.delete(e);
        let parent = Field { root: self.0.root, keys: self.0.keys[..self.0.keys.len() - 1].to_vec() };
        for (k, v) in map {
            let mut f = parent.clone();
            f.keys.push(k);
            f.set(e, v);
        }
        Ok(true)
    }
}

/// `assign_keys`: a list becomes a map of `keys` to its values, in order.
struct AssignKeys {
    field: Field,
    keys: Vec<String>,
}

pub fn assign_keys(c: &mut Conf<'_>) -> Box<dyn Operator> {
    let field = c.required_field("field", "assign_keys");
    let keys = c.list_of_strings("keys");
    if keys.is_empty() {
        c.error("", "missing required field \"keys\" for operator type \"assign_keys\"");
    }
    edit(AssignKeys { field, keys })
}

impl Edit for AssignKeys {
    fn edit(&self, e: &mut Entry) -> Result<bool, String> {
        let values = match self.field.get(e) {
            Some(Val::List(items)) => items.clone(),
            Some(_) => return Err(format!("type mismatch: {} is not a list", self.field)),
            None => return Err(format!("entry is missing the expected field {}", self.field)),
        };
        if values.len() != self.keys.len() {
            return Err(format!("number of values ({}) does not match the number of keys ({})", values.len(), self.keys.len()));
        }
        let map: BTreeMap<String, Val> = self.keys.iter().cloned().zip(values).collect();
        // Replaced, not merged: the list is gone.
        self.field.delete(e);
        self.field.set(e, Val::Map(map));
        Ok(true)
    }
}

struct Noop;

pub fn noop(_: &mut Conf<'_>) -> Box<dyn Operator> {
    edit(Noop)
}

impl Edit for Noop {
    fn edit(&self, _: &mut Entry) -> Result<bool, String> {
        Ok(true)
    }
}
