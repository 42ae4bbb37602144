//! The protocol readers on hand-written bytes: every value type, both message header forms,
//! and the limits that keep hostile input cheap.

use super::*;

#[test]
fn binary_reads_fields_and_values_big_endian() {
    // struct { 1: i32 = -2, 2: string "hé", 3: double 1.5, 4: bool true, 5: list<i64> [7] }
    let mut bytes = vec![8, 0, 1, 0xff, 0xff, 0xff, 0xfe, 11, 0, 2, 0, 0, 0, 3, b'h', 0xc3, 0xa9, 4, 0, 3];
    bytes.extend(1.5f64.to_bits().to_be_bytes());
    bytes.extend([2, 0, 4, 1, 15, 0, 5, 10, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7, 0]);
    let mut p = Binary::new(&bytes);
    p.struct_begin().unwrap();
    assert_eq!(p.field_begin().unwrap(), Some((TType::I32, 1)));
    assert_eq!(p.i32().unwrap(), -2);
    assert_eq!(p.field_begin().unwrap(), Some((TType::Binary, 2)));
    assert_eq!(p.string().unwrap(), "hé");
    assert_eq!(p.field_begin().unwrap(), Some((TType::Double, 3)));
    assert_eq!(p.double().unwrap(), 1.5);
    assert_eq!(p.field_begin().unwrap(), Some((TType::Bool, 4)));
    assert!(p.bool().unwrap());
    assert_eq!(p.field_begin().unwrap(), Some((TType::List, 5)));
    assert_eq!(p.list_begin().unwrap(), (TType::I64, 1));
    assert_eq!(p.i64().unwrap(), 7);
    p.container_end();
    assert_eq!(p.field_begin().unwrap(), None);
}

#[test]
fn compact_reads_delta_ids_zigzag_varints_and_header_booleans() {
    // struct { 1: i32 = -2 (delta 1), 2: bool false (in the header), 4: i64 300 (delta 2),
    //          20: double 1.5 (long form id), 21: list<bool> [true, false] }
    let mut bytes = vec![0x15, 0x03, 0x12, 0x26, 0xd8, 0x04, 0x07, 0x28];
    bytes.extend(1.5f64.to_bits().to_le_bytes());
    bytes.extend([0x19, 0x21, 1, 2, 0]);
    let mut p = Compact::new(&bytes);
    p.struct_begin().unwrap();
    assert_eq!(p.field_begin().unwrap(), Some((TType::I32, 1)));
    assert_eq!(p.i32().unwrap(), -2);
    assert_eq!(p.field_begin().unwrap(), Some((TType::Bool, 2)));
    assert!(!p.bool().unwrap());
    assert_eq!(p.field_begin().unwrap(), Some((TType::I64, 4)));
    assert_eq!(p.i64().unwrap(), 300);
    assert_eq!(p.field_begin().unwrap(), Some((TType::Double, 20)));
    assert_eq!(p.double().unwrap(), 1.5);
    assert_eq!(p.field_begin().unwrap(), Some((TType::List, 21)));
    assert_eq!(p.list_begin().unwrap(), (TType::Bool, 2));
    assert_eq!((p.bool().unwrap(), p.bool().unwrap()), (true, false));
    p.container_end();
    assert_eq!(p.field_begin().unwrap(), None);
    p.struct_end();
}

#[test]
fn compact_field_ids_restart_in_nested_structs() {
    // struct { 3: struct { 1: byte 9 }, 4: byte 8 }: the inner struct's delta starts at 0,
    // the outer one's resumes from 3.
    let bytes = [0x3c, 0x13, 9, 0, 0x13, 8, 0];
    let mut p = Compact::new(&bytes);
    p.struct_begin().unwrap();
    assert_eq!(p.field_begin().unwrap(), Some((TType::Struct, 3)));
    p.struct_begin().unwrap();
    assert_eq!(p.field_begin().unwrap(), Some((TType::Byte, 1)));
    assert_eq!(p.byte().unwrap(), 9);
    assert_eq!(p.field_begin().unwrap(), None);
    p.struct_end();
    assert_eq!(p.field_begin().unwrap(), Some((TType::Byte, 4)));
}

#[test]
fn message_headers_in_both_binary_forms_and_compact() {
    let strict = [0x80, 0x01, 0x00, 0x04, 0, 0, 0, 1, b'e', 0, 0, 0, 7];
    assert_eq!(Binary::new(&strict).message_begin().unwrap(), MessageHeader { name: "e".into(), kind: 4, seq_id: 7 });
    let old = [0, 0, 0, 1, b'e', 4, 0, 0, 0, 7];
    assert_eq!(Binary::new(&old).message_begin().unwrap(), MessageHeader { name: "e".into(), kind: 4, seq_id: 7 });
    let compact = [0x82, 0x81, 7, 1, b'e'];
    assert_eq!(Compact::new(&compact).message_begin().unwrap(), MessageHeader { name: "e".into(), kind: 4, seq_id: 7 });
    assert!(matches!(Binary::new(&[0x80, 0x02, 0, 4, 0, 0, 0, 0]).message_begin(), Err(ThriftError::Invalid(_))));
    assert!(matches!(Compact::new(&[0x82, 0x82, 0, 0]).message_begin(), Err(ThriftError::Invalid(_))));
    assert!(matches!(Compact::new(&[0x80, 0x81, 0, 0]).message_begin(), Err(ThriftError::Invalid(_))));
}

#[test]
fn declared_lengths_beyond_the_input_are_refused_before_allocating() {
    // A 2 GiB string and list in a few bytes.
    assert_eq!(Binary::new(&[0x7f, 0xff, 0xff, 0xff, b'x']).binary(), Err(ThriftError::TooLong { declared: 0x7fff_ffff, left: 1 }));
    assert_eq!(Binary::new(&[0x80, 0, 0, 0]).binary(), Err(ThriftError::NegativeLength(-0x8000_0000)));
    assert!(matches!(Binary::new(&[12, 0x7f, 0xff, 0xff, 0xff]).list_begin(), Err(ThriftError::TooLong { .. })));
    assert!(matches!(Binary::new(&[8, 8, 0x7f, 0xff, 0xff, 0xff]).map_begin(), Err(ThriftError::TooLong { .. })));
    assert!(matches!(Compact::new(&[0xff, 0xff, 0xff, 0xff, 0x07]).binary(), Err(ThriftError::TooLong { .. })));
    assert!(matches!(Compact::new(&[0xfc, 0xff, 0xff, 0xff, 0x07]).list_begin(), Err(ThriftError::TooLong { .. })));
    assert!(matches!(Compact::new(&[0xe5]).list_begin(), Err(ThriftError::TooLong { declared: 14, left: 0 })));
}

#[test]
fn nesting_is_bounded() {
    // Lists of lists, deeper than the limit, each a one-element list header.
    let deep: Vec<u8> = (0..MAX_DEPTH + 1).flat_map(|_| [15u8, 0, 0, 0, 1]).collect();
    assert_eq!(Binary::new(&deep).skip(TType::List), Err(ThriftError::TooDeep));
    let deep: Vec<u8> = std::iter::repeat_n(0x19u8, MAX_DEPTH + 1).collect();
    assert_eq!(Compact::new(&deep).skip(TType::List), Err(ThriftError::TooDeep));
    // Structs in structs (field 1 of type struct), skipped as an unknown field would be.
    let deep: Vec<u8> = std::iter::repeat_n([12u8, 0, 1], MAX_DEPTH + 1).flatten().collect();
    assert_eq!(Binary::new(&deep).skip(TType::Struct), Err(ThriftError::TooDeep));
}

#[test]
fn skip_reads_past_every_type() {
    // struct { 1: map<string,i16> {"a": 1}, 2: set<byte> {5}, 3: uuid, 4: i16 -1 } then i32 42.
    let mut bytes = vec![13, 0, 1, 11, 6, 0, 0, 0, 1, 0, 0, 0, 1, b'a', 0, 1, 14, 0, 2, 3, 0, 0, 0, 1, 5, 16, 0, 3];
    bytes.extend([0xab; 16]);
    bytes.extend([6, 0, 4, 0xff, 0xff, 0, 0, 0, 0, 42]);
    let mut p = Binary::new(&bytes);
    p.skip(TType::Struct).unwrap();
    assert_eq!(p.i32().unwrap(), 42);
}

#[test]
fn bad_types_and_varints_are_errors() {
    assert_eq!(Binary::new(&[1, 0, 1]).field_begin(), Err(ThriftError::UnknownType(1)));
    assert_eq!(Compact::new(&[0x1e]).field_begin(), Err(ThriftError::UnknownType(14)));
    assert_eq!(Compact::new(&[0xff; 11]).i64(), Err(ThriftError::BadVarint));
    assert_eq!(Compact::new(&[0x80, 0x80]).i64(), Err(ThriftError::Eof));
    assert!(matches!(Compact::new(&[0x80, 0x80, 0x80, 0x80, 0x10]).i32(), Err(ThriftError::Invalid(_))));
}
