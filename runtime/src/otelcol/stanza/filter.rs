//! `filter`: drops the entries its `expr` matches (each with probability `drop_ratio`,
//! default 1); an expression that does not give a boolean is an error.

use std::sync::atomic::{AtomicU64, Ordering};

use super::config::Conf;
use super::entry::Entry;
use super::expr::Expr;
use super::{edit, Edit, Operator};

struct Filter {
    expr: Option<Expr>,
    drop_ratio: f64,
    /// xorshift state for the drop draws.
    seed: AtomicU64,
}

pub fn build(c: &mut Conf<'_>) -> Box<dyn Operator> {
    if !c.has("expr") {
        c.error("", "missing required field \"expr\" for operator type \"filter\"");
    }
    let expr = c.expr("expr");
    let drop_ratio = c.number_or("drop_ratio", 1.0);
    if !(0.0..=1.0).contains(&drop_ratio) {
        c.error("drop_ratio", "drop_ratio must be a number between 0 and 1");
    }
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64) | 1;
    edit(Filter { expr, drop_ratio, seed: AtomicU64::new(seed) })
}

impl Filter {
    /// A draw in [0, 1).
    fn draw(&self) -> f64 {
        let mut x = self.seed.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.seed.store(x, Ordering::Relaxed);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

impl Edit for Filter {
    fn edit(&self, e: &mut Entry) -> Result<bool, String> {
        let Some(expr) = &self.expr else { return Ok(true) };
        let matched = expr.matches(e)?;
        Ok(!(matched && (self.drop_ratio >= 1.0 || self.draw() < self.drop_ratio)))
    }
}
