//! `router`: sends each entry along the first of its `routes` whose `expr` matches (with
//! that route's `attributes` added), or to `default` when none does; an entry no route takes
//! and without a `default` is dropped, as upstream's router does.

use std::collections::BTreeMap;

use super::config::Conf;
use super::entry::{Entry, Val};
use super::expr::Expr;

/// A route as written: its condition (none for `default`), output ids and attributes.
pub struct RouteConfig {
    pub condition: Option<Expr>,
    pub outputs: Vec<String>,
    pub attributes: BTreeMap<String, Val>,
}

/// A route with its outputs resolved to operator indices.
pub struct Route {
    pub condition: Option<Expr>,
    pub outputs: Vec<usize>,
    pub attributes: BTreeMap<String, Val>,
}

pub fn read(c: &mut Conf<'_>) -> Vec<RouteConfig> {
    let mut routes = c.nested_list("routes", |r| {
        if !r.has("expr") {
            r.error("", "a route needs an expr");
        }
        if !r.has("output") {
            r.error("", "a route needs an output");
        }
        let condition = r.expr("expr");
        let outputs = r.list_of_strings("output");
        let attributes = match r.value("attributes") {
            None => BTreeMap::new(),
            Some(Val::Map(m)) => m.clone(),
            Some(_) => {
                r.error("attributes", "attributes must be an object");
                BTreeMap::new()
            }
        };
        RouteConfig { condition, outputs, attributes }
    });
    let default = c.list_of_strings("default");
    if !default.is_empty() {
        routes.push(RouteConfig { condition: None, outputs: default, attributes: BTreeMap::new() });
    }
    if routes.is_empty() {
        c.error("", "a router needs routes or a default");
    }
    routes
}

/// The route `e` takes (its attributes added), if any.
pub fn pick<'r>(routes: &'r [Route], e: &mut Entry) -> Option<&'r Route> {
    let route = routes.iter().find(|r| r.condition.as_ref().is_none_or(|x| x.matches(e).unwrap_or(false)))?;
    e.attributes.extend(route.attributes.clone());
    Some(route)
}
