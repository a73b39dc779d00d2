meta:
  id: xl_save_file
  title: Xen xl save file / xl migrate stream
  application:
    - xl save, xl restore, xl migrate (tools/xl/xl_saverestore.c, xl_migrate.c)
  license: CC0-1.0
  ks-version: 0.11
  imports:
    - libxl_stream
  endian: le
doc: |
  What `xl save` writes and `xl migrate` sends: the xl save-file header (tools/xl/xl.h,
  struct save_file_header), the optional data (the domain configuration), then the libxl stream
  (mandatory flag STREAMv2) or a legacy stream (flag clear).

  Byte order: xl writes the four u32 header fields in the saving domain's native order and stores
  0x01020304 in byteorder so a reader can tell. Every Xen x86 host is little-endian, so this
  description reads them as little-endian; `is_little_endian` says whether that was right.

  Limits of this view: a legacy payload is kept as raw octets, because its layout depends on the
  toolstack word size and the guest type, which the stream does not record: parse it with
  legacy_stream.ksy given those. Whatever follows the libxl END (an `xl migrate` sender appends
  "domain is yours, you are cleared to unpause\0") is kept as raw octets in `trailer`. A
  big-endian header is not described.
doc-ref: FORMATS.md 1
seq:
  - id: magic
    contents: ["Xen saved domain, xl format", 0x0a, 0x20, 0x00, 0x20, 0x0d]
    doc: '"Xen saved domain, xl format\n \0 \r": 32 octets with an embedded NUL.'
    doc-ref: FORMATS.md 1
  - id: byte_order
    type: u4
    doc: 0x01020304 written in the domain's native order.
    doc-ref: FORMATS.md 1
  - id: mandatory_flags
    type: u4
    doc: 'Bit 0 JSON config, bit 1 STREAMv2 (see xl_mandatory_flags). xl refuses unknown bits.'
    doc-ref: FORMATS.md 1
  - id: optional_flags
    type: u4
    doc: No bits defined; xl refuses unknown bits.
    doc-ref: FORMATS.md 1
  - id: optional_data_len
    type: u4
    doc: Length of the optional data.
    doc-ref: FORMATS.md 1
  - id: optional_data
    type: config_data
    size: optional_data_len
    doc: The optional data (the domain configuration).
    doc-ref: FORMATS.md 1
  - id: libxl
    type: libxl_stream
    if: is_stream_v2
    doc: The libxl stream, when STREAMv2 is set.
    doc-ref: FORMATS.md 2
  - id: legacy_payload
    size-eos: true
    if: not is_stream_v2
    doc: The legacy stream, when STREAMv2 is clear (parse with legacy_stream.ksy).
    doc-ref: FORMATS.md 6
  - id: trailer
    size-eos: true
    if: is_stream_v2
    doc: Octets after the libxl END, e.g. the xl migrate sender's "domain is yours" message.
    doc-ref: FORMATS.md 14
instances:
  is_little_endian:
    value: byte_order == 0x01020304
    doc: Whether the header fields really are little-endian (the saving domain's native order).
    doc-ref: FORMATS.md 1
  is_json:
    value: (mandatory_flags & xl_mandatory_flags::json.to_i) != 0
    doc: The config is JSON (otherwise xl.cfg text).
    doc-ref: FORMATS.md 1
  is_stream_v2:
    value: (mandatory_flags & xl_mandatory_flags::stream_v2.to_i) != 0
    doc: A libxl v2 stream follows; otherwise a legacy stream.
    doc-ref: FORMATS.md 1
  unknown_mandatory_flags:
    value: (mandatory_flags & 0xfffffffc).as<u4>
    doc: Mandatory bits xl does not know; xl refuses to restore when any is set.
    doc-ref: FORMATS.md 1
types:
  config_data:
    doc: |
      The optional data: u32 config size, then the config (xl.cfg text, or JSON when the JSON flag
      is set). xl restore reads the config only when at least 4 octets are present.
    doc-ref: FORMATS.md 1
    seq:
      - id: config
        type: config
        if: _io.size >= 4
        doc: The domain configuration.
        doc-ref: FORMATS.md 1
      - id: rest
        size-eos: true
        doc: Optional data after the config (none from xl).
        doc-ref: FORMATS.md 1

  config:
    doc: u32 size, then the config text; xl writes the text with its terminating NUL.
    doc-ref: FORMATS.md 1
    seq:
      - id: size
        type: u4
        doc: Config length in octets (including xl's trailing NUL).
        doc-ref: FORMATS.md 1
      - id: text
        type: str
        size: size
        terminator: 0
        encoding: UTF-8
        doc: The config text, up to its NUL.
        doc-ref: FORMATS.md 1

enums:
  xl_mandatory_flags:
    1:
      id: json
      doc: The config data is JSON rather than xl.cfg text.
      -orig-id: XL_MANDATORY_FLAG_JSON
    2:
      id: stream_v2
      doc: A libxl v2 stream follows; clear means legacy.
      -orig-id: XL_MANDATORY_FLAG_STREAMv2
