//! Which module a position is in, and which schema (catalogue body or custom component
//! signature) describes the body of a block.

use std::borrow::Cow;

use syntax::ast::Block;

use crate::catalog::{Attr, BlockSchema, Body, Catalog, Component};
use crate::model::{self, DeclareSig, ModuleIndex, NodeKind};
use crate::types::Ty;

use super::Snapshot;

/// The namespace names resolve in: the root module (all files), or a `declare` body.
pub(crate) struct Scope<'a> {
    pub index: Cow<'a, ModuleIndex>,
    /// The innermost enclosing `declare`, when not the root module.
    pub declare: Option<&'a Block>,
}

impl Snapshot {
    /// The scope of an item enclosed by `blocks` (outermost first), and the blocks of that
    /// scope's module that enclose it.
    pub(crate) fn scope_of<'a, 'b>(&'a self, blocks: &'b [&'a Block]) -> (Scope<'a>, &'b [&'a Block]) {
        let root = self.index();
        match blocks.iter().rposition(|b| b.name == "declare") {
            None => (Scope { index: Cow::Borrowed(root), declare: None }, blocks),
            Some(i) => {
                let decl = blocks[i];
                let resolve = |source: &model::ImportSource| crate::db::resolve_import(&self.db, self.ws, source);
                let index = crate::check::nested_index(&model::file_symbols(&decl.body), [root], &resolve);
                (Scope { index: Cow::Owned(index), declare: Some(decl) }, &blocks[i + 1..])
            }
        }
    }
}

/// What a block body may contain.
pub(crate) enum BodySchema {
    Catalog { comp: &'static Component, body: &'static Body, inherit: bool },
    Custom(DeclareSig),
}

/// One attribute a body accepts, from either kind of schema.
pub(crate) struct AttrInfo<'s> {
    pub name: &'s str,
    pub ty: Ty,
    pub required: bool,
    pub default: Option<&'s str>,
    pub enums: Option<&'s [String]>,
}

impl BodySchema {
    pub fn attrs(&self) -> Vec<AttrInfo<'_>> {
        match self {
            BodySchema::Catalog { body, .. } => body.attrs.iter().map(attr_info).collect(),
            BodySchema::Custom(sig) => {
                sig.args.iter().map(|(n, required)| AttrInfo { name: n.as_str(), ty: Ty::Any, required: *required, default: None, enums: None }).collect()
            }
        }
    }

    pub fn attr(&self, name: &str) -> Option<AttrInfo<'_>> {
        self.attrs().into_iter().find(|a| a.name == name)
    }

    /// The nested blocks the body accepts (with the component's own blocks where inherited).
    pub fn blocks(&self) -> Vec<&'static BlockSchema> {
        match self {
            BodySchema::Catalog { comp, body, inherit } => {
                let mut out: Vec<&BlockSchema> = body.blocks.iter().collect();
                if *inherit {
                    out.extend(comp.body.blocks.iter().filter(|b| body.block(&b.name).is_none()));
                }
                out
            }
            BodySchema::Custom(_) => Vec::new(),
        }
    }

    pub fn block(&self, name: &str) -> Option<&'static BlockSchema> {
        self.blocks().into_iter().find(|b| b.name == name)
    }
}

pub(crate) fn attr_info(a: &Attr) -> AttrInfo<'_> {
    AttrInfo {
        name: &a.name,
        ty: a.ty.clone(),
        required: a.required,
        default: a.default.as_deref().or(a.computed.as_deref()),
        enums: a.enum_members.as_deref(),
    }
}

/// The catalogue entry or custom signature a top-level block instantiates.
pub(crate) fn top_schema(index: &ModuleIndex, name: &str) -> Option<BodySchema> {
    let kind = model::classify(name, &index.declares, &index.imports);
    match kind {
        NodeKind::Local(_) | NodeKind::Imported(..) => index.custom_sig(&kind).cloned().map(BodySchema::Custom),
        NodeKind::Unknown | NodeKind::Declare | NodeKind::Unconfigurable => None,
        _ => {
            let comp = Catalog::get().lookup(name)?;
            Some(BodySchema::Catalog { comp, body: &comp.body, inherit: false })
        }
    }
}

/// The schema of the innermost of a chain of blocks named by `names` (a top-level block of a
/// module and the blocks nested in it, outermost first).
pub(crate) fn body_schema<'n>(index: &ModuleIndex, names: impl IntoIterator<Item = &'n str>) -> Option<BodySchema> {
    let mut names = names.into_iter();
    let mut schema = top_schema(index, names.next()?)?;
    for n in names {
        let bs = schema.block(n)?;
        let BodySchema::Catalog { comp, .. } = schema else { return None };
        schema = BodySchema::Catalog { comp, body: &bs.body, inherit: bs.inherit };
    }
    Some(schema)
}
