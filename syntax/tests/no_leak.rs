//! Parsing frees everything it allocates: the grammar is built per parse and its recursive
//! parsers refer to each other, which must not form a reference cycle.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every method forwards to `System`, which upholds the GlobalAlloc contract; the
// counter is a plain atomic and never affects the returned pointers.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::SeqCst);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::SeqCst);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn parsing_does_not_leak() {
    let src = b"a = [1, {b = f(x)[0].y}]\nblk \"l\" {\n  c = -2 ^ 3\n}\n";
    // Warm up anything allocated once per process.
    drop(syntax::parse_file(src));
    drop(syntax::parse_expression(b"1 + 2"));
    let before = LIVE.load(Ordering::SeqCst);
    for _ in 0..10 {
        drop(syntax::parse_file(src));
        drop(syntax::parse_expression(b"f(1)[2] + {a = 1}.a"));
    }
    let after = LIVE.load(Ordering::SeqCst);
    assert_eq!(after - before, 0, "bytes still allocated after 20 parses");
}
