//! The position queries (hover, completion, semantic tokens, document symbols, folding) read the file chunk
//! by chunk; whatever the chunk size, they must answer as over the whole file. Every `.alloy`
//! file under `fixtures/` is queried with tiny chunks (each top-level block on its own where
//! the cut can go) and with one chunk, and the answers compared.

use std::path::{Path, PathBuf};

use analyzer::{Analysis, Options};

fn alloy_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            alloy_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "alloy") {
            out.push(p);
        }
    }
}

fn analysis(text: &str, chunk_target: u32) -> Analysis {
    let mut a = Analysis::new(Options::default());
    a.set_chunk_target(chunk_target);
    a.set_files(vec![("main.alloy".to_string(), text.to_string())]);
    a
}

#[test]
fn chunked_answers_equal_whole_file_answers() {
    let mut files = Vec::new();
    alloy_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures"), &mut files);
    assert!(files.len() > 50, "fixtures found: {}", files.len());
    let mut multi_chunk = 0;
    for path in files {
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        let (small, whole) = (analysis(&text, 1).snapshot(), analysis(&text, u32::MAX).snapshot());
        if analyzer::chunk::split(&text, 1).len() > 1 {
            multi_chunk += 1;
        }
        let name = path.display();
        assert_eq!(small.semantic_tokens("main.alloy"), whole.semantic_tokens("main.alloy"), "tokens of {name}");
        assert_eq!(small.document_symbols("main.alloy"), whole.document_symbols("main.alloy"), "symbols of {name}");
        assert_eq!(small.folding_ranges("main.alloy"), whole.folding_ranges("main.alloy"), "folds of {name}");
        for offset in (0..text.len() as u32).step_by(5) {
            assert_eq!(small.hover("main.alloy", offset), whole.hover("main.alloy", offset), "hover at {offset} of {name}");
        }
        for offset in (0..text.len() as u32).step_by(23).filter(|o| text.is_char_boundary(*o as usize)) {
            assert_eq!(small.completions("main.alloy", offset), whole.completions("main.alloy", offset), "completion at {offset} of {name}");
        }
    }
    assert!(multi_chunk > 20, "files cut into several chunks: {multi_chunk}");
}
