//! `stage.multiline`: joins the lines of a block (a line matching `firstline` and the lines
//! after it) into one entry per stream.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use prom::relabel::GoRegex;

use super::config::MultilineConfig;
use super::{ConfigError, Item, Stage};

struct Block {
    /// The start line's entry: the joined entry keeps its timestamp, labels and metadata.
    start: Item,
    lines: Vec<String>,
    last_seen: Instant,
}

pub struct Multiline {
    firstline: GoRegex,
    max_lines: usize,
    max_wait: Duration,
    trim: bool,
    /// By stream, with the order streams were first seen (flushes are deterministic).
    blocks: HashMap<super::StreamKey, Block>,
    order: Vec<super::StreamKey>,
}

impl Multiline {
    pub fn new(c: &MultilineConfig) -> Result<Self, ConfigError> {
        if c.firstline.is_empty() {
            return Err(ConfigError::new("missing or empty firstline field"));
        }
        if c.max_wait_time.is_zero() {
            return Err(ConfigError::new("multiline stage config error, max_wait_time must be greater than 0"));
        }
        let firstline = GoRegex::new(&c.firstline).map_err(|e| ConfigError::new(format!("could not compile firstline regex: {e}")))?;
        Ok(Multiline {
            firstline,
            max_lines: c.max_lines.max(1) as usize,
            max_wait: c.max_wait_time,
            trim: c.trim_newlines,
            blocks: HashMap::new(),
            order: Vec::new(),
        })
    }

    fn emit(block: &mut Block, out: &mut Vec<Item>) {
        if block.lines.is_empty() {
            return;
        }
        let mut e = block.start.clone();
        e.line = block.lines.join("\n");
        block.lines.clear();
        out.push(e);
    }
}

impl Stage for Multiline {
    fn process(&mut self, item: Item, out: &mut Vec<Item>) {
        let key = item.stream_key();
        let first = self.firstline.is_match(&item.line);
        let line = if self.trim { item.line.trim_end_matches(['\r', '\n']).to_string() } else { item.line.clone() };
        if first {
            if let Some(b) = self.blocks.get_mut(&key) {
                Self::emit(b, out);
            } else {
                self.order.push(key);
            }
            self.blocks.insert(key, Block { start: item, lines: Vec::new(), last_seen: Instant::now() });
        } else if !self.blocks.contains_key(&key) {
            // Lines before any block's first line pass through.
            out.push(item);
            return;
        }
        let Some(block) = self.blocks.get_mut(&key) else { return };
        block.lines.push(line);
        block.last_seen = Instant::now();
        if block.lines.len() >= self.max_lines {
            Self::emit(block, out);
        }
    }

    fn flush(&mut self, out: &mut Vec<Item>) {
        for key in &self.order {
            if let Some(b) = self.blocks.get_mut(key) {
                Self::emit(b, out);
            }
        }
    }

    fn tick(&mut self, out: &mut Vec<Item>) {
        for key in &self.order {
            if let Some(b) = self.blocks.get_mut(key) {
                if b.last_seen.elapsed() >= self.max_wait {
                    Self::emit(b, out);
                }
            }
        }
    }
}
