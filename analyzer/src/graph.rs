//! The dependency graph between top-level nodes and its cycles.

use std::collections::{BTreeSet, HashMap};

use syntax::Diagnostic;

use crate::check::Edge;

/// A cycle: the strongly connected component's node IDs (sorted), or one node that refers to
/// itself.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Cycle {
    pub nodes: Vec<String>,
    pub self_reference: bool,
}

/// Every cycle of the graph given by `edges` (`from` depends on `to`), each once: strongly
/// connected components with more than one node, then self references.
pub fn find_cycles<'e>(edges: impl IntoIterator<Item = (&'e str, &'e str)>) -> Vec<Cycle> {
    let mut ids: HashMap<&str, usize> = HashMap::new();
    let mut names: Vec<&str> = Vec::new();
    let mut adj: Vec<Vec<usize>> = Vec::new();
    let mut selfs: BTreeSet<&str> = BTreeSet::new();
    let intern = |s: &'e str, ids: &mut HashMap<&'e str, usize>, names: &mut Vec<&'e str>, adj: &mut Vec<Vec<usize>>| {
        *ids.entry(s).or_insert_with(|| {
            names.push(s);
            adj.push(Vec::new());
            names.len() - 1
        })
    };
    for (a, b) in edges {
        if a == b {
            selfs.insert(a);
            continue;
        }
        let x = intern(a, &mut ids, &mut names, &mut adj);
        let y = intern(b, &mut ids, &mut names, &mut adj);
        adj[x].push(y);
    }
    let mut out: Vec<Cycle> = tarjan(&adj)
        .into_iter()
        .filter(|c| c.len() > 1)
        .map(|c| {
            let mut nodes: Vec<String> = c.iter().map(|&i| names[i].to_string()).collect();
            nodes.sort();
            Cycle { nodes, self_reference: false }
        })
        .collect();
    out.sort_by(|a, b| a.nodes.cmp(&b.nodes));
    out.extend(selfs.into_iter().map(|s| Cycle { nodes: vec![s.to_string()], self_reference: true }));
    out
}

/// Tarjan's strongly connected components, iteratively (graphs may be deep).
fn tarjan(adj: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let n = adj.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut sccs = Vec::new();
    let mut next = 0;
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        let mut work: Vec<(usize, usize)> = vec![(root, 0)];
        while let Some(&mut (v, ref mut i)) = work.last_mut() {
            if *i == 0 && index[v] == usize::MAX {
                index[v] = next;
                low[v] = next;
                next += 1;
                stack.push(v);
                on_stack[v] = true;
            }
            if *i < adj[v].len() {
                let w = adj[v][*i];
                *i += 1;
                if index[w] == usize::MAX {
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut comp = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    comp.push(w);
                    if w == v {
                        break;
                    }
                }
                sccs.push(comp);
            }
        }
    }
    sccs
}

/// The diagnostic for one cycle, given every edge of the graph with its position (edges are
/// `(file index, edge)`); `None` when no edge of the cycle is known.
pub fn cycle_diagnostic<'e>(
    cycle: &Cycle,
    edges: impl IntoIterator<Item = (usize, &'e Edge)>,
    file_name: impl Fn(usize) -> std::sync::Arc<str>,
) -> Option<(usize, Diagnostic)> {
    let members: BTreeSet<&str> = cycle.nodes.iter().map(String::as_str).collect();
    let mut inside: Vec<(usize, &Edge)> = edges
        .into_iter()
        .filter(|(_, e)| {
            if cycle.self_reference {
                e.from == e.to && members.contains(e.from.as_str())
            } else {
                e.from != e.to && members.contains(e.from.as_str()) && members.contains(e.to.as_str())
            }
        })
        .collect();
    inside.sort_by_key(|(f, e)| (*f, e.span.start));
    let &(file, first) = inside.first()?;
    if cycle.self_reference {
        let d = Diagnostic::error(first.span, format!("cannot reference self: \"{}\" refers to itself", first.from)).with_code("cycle");
        return Some((file, d));
    }
    let mut d = Diagnostic::error(first.span, format!("cycle detected: {}", cycle.nodes.join(", "))).with_code("cycle");
    d.notes.push(format!("\"{}\" depends on \"{}\" here", first.from, first.to));
    for &(f, e) in &inside[1..] {
        let file = if f == file { None } else { Some(f) };
        d.related.push(syntax::Related { file: file.map(&file_name), span: e.span, message: format!("\"{}\" depends on \"{}\" here", e.from, e.to) });
    }
    Some((file, d))
}

/// Cycle diagnostics of one module whose edges are all in one file.
pub fn cycle_diagnostics(edges: &[Edge]) -> Vec<Diagnostic> {
    let cycles = find_cycles(edges.iter().map(|e| (e.from.as_str(), e.to.as_str())));
    cycles.iter().filter_map(|c| cycle_diagnostic(c, edges.iter().map(|e| (0, e)), |_| std::sync::Arc::from(""))).map(|(_, d)| d).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_cycle_once() {
        let edges = [("a", "b"), ("b", "c"), ("c", "a"), ("d", "a"), ("e", "e"), ("f", "g"), ("g", "f")];
        let cycles = find_cycles(edges);
        assert_eq!(cycles.len(), 3);
        assert_eq!(cycles[0].nodes, ["a", "b", "c"]);
        assert_eq!(cycles[1].nodes, ["f", "g"]);
        assert!(cycles[2].self_reference);
    }

    #[test]
    fn deep_chains_do_not_overflow() {
        let names: Vec<String> = (0..100_000).map(|i| format!("n{i}")).collect();
        let edges: Vec<(&str, &str)> = names.windows(2).map(|w| (w[0].as_str(), w[1].as_str())).collect();
        assert!(find_cycles(edges).is_empty());
    }
}
