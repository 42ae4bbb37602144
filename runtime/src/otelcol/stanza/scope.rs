//! `scope_name_parser` and the parsers' `scope_name` sub-block: the text at `parse_from`
//! becomes the entry's instrumentation scope name.

use super::config::Conf;
use super::entry::{Entry, Field, Val};
use super::{standalone, Apply, Operator};

pub struct ScopeNameParser(Field);

impl ScopeNameParser {
    /// `parse_from` defaults to the body for the operator; the sub-block requires it.
    pub fn read(c: &mut Conf<'_>, required: bool) -> ScopeNameParser {
        if required && !c.has("parse_from") {
            c.error("", "missing required field 'parse_from'");
        }
        ScopeNameParser(c.field_or("parse_from", Field::body()))
    }
}

impl Apply for ScopeNameParser {
    fn apply(&self, e: &mut Entry) -> Result<(), String> {
        match self.0.get(e) {
            Some(Val::Str(s)) => {
                e.scope_name = s.clone();
                Ok(())
            }
            Some(_) => Err(format!("{} is not a string: it cannot be a scope name", self.0)),
            None => Err(format!("log entry does not have the expected parse_from field {}", self.0)),
        }
    }
}

pub fn build(c: &mut Conf<'_>) -> Box<dyn Operator> {
    standalone(ScopeNameParser::read(c, false))
}
