"""Protobuf message classes built at run time from field lists, so the end-to-end decoders
need no protoc and no generated code: each decoder spells out the messages it reads with the
field numbers of the published .proto files it follows."""

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

F = descriptor_pb2.FieldDescriptorProto


def message_class(package, messages, root):
    """messages: [(name, [(number, field_name, F.TYPE_*, repeated, message type name or None)])];
    returns the class of message `root`."""
    fdp = descriptor_pb2.FileDescriptorProto(name=f"{package}.proto", package=package, syntax="proto3")
    for name, fields in messages:
        m = fdp.message_type.add(name=name)
        for number, fname, ftype, repeated, type_name in fields:
            f = m.field.add(name=fname, number=number, type=ftype)
            f.label = F.LABEL_REPEATED if repeated else F.LABEL_OPTIONAL
            if type_name:
                f.type_name = f".{package}.{type_name}"
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{package}.{root}"))
