// Minimal protobuf writer for SentencePiece's ModelProto (sentencepiece_model.proto), enough for a BPE model:
//   ModelProto { repeated SentencePiece pieces = 1; TrainerSpec trainer_spec = 2; NormalizerSpec normalizer_spec = 3; }
//   SentencePiece { string piece = 1; float score = 2; Type type = 3; }  (NORMAL=1 UNKNOWN=2 CONTROL=3 BYTE=6)
//   TrainerSpec { model_type = 3 (BPE=2); vocab_size = 4; byte_fallback = 35; unk_id = 40; bos_id = 41; eos_id = 42; pad_id = 43 }
//   NormalizerSpec { name = 1; add_dummy_prefix = 3; remove_extra_whitespaces = 4; escape_whitespaces = 5 }

class Writer {
  constructor() { this.chunks = []; }
  varint(value) {
    let v = BigInt.asUintN(64, BigInt(value));
    const bytes = [];
    do {
      let b = Number(v & 0x7Fn);
      v >>= 7n;
      if (v !== 0n) b |= 0x80;
      bytes.push(b);
    } while (v !== 0n);
    this.chunks.push(Buffer.from(bytes));
  }
  tag(field, wireType) { this.varint((field << 3) | wireType); }
  int(field, value) { this.tag(field, 0); this.varint(value); }
  bool(field, value) { this.int(field, value ? 1 : 0); }
  float(field, value) {
    this.tag(field, 5);
    const b = Buffer.alloc(4);
    b.writeFloatLE(value);
    this.chunks.push(b);
  }
  bytes(field, buffer) { this.tag(field, 2); this.varint(buffer.length); this.chunks.push(buffer); }
  string(field, value) { this.bytes(field, Buffer.from(value, 'utf8')); }
  message(field, build) { const w = new Writer(); build(w); this.bytes(field, w.finish()); }
  finish() { return Buffer.concat(this.chunks); }
}

/** Serializes pieces ({piece, score, type}) and the trainer/normalizer settings as a SentencePiece ModelProto. */
export function encodeSentencePieceModel(pieces, spec) {
  const w = new Writer();
  for (const p of pieces) {
    w.message(1, (m) => { m.string(1, p.piece); m.float(2, p.score); m.int(3, p.type); });
  }
  w.message(2, (m) => {
    m.int(3, spec.modelType);
    m.int(4, spec.vocabSize);
    m.bool(35, spec.byteFallback);
    m.int(40, spec.unkId);
    m.int(41, spec.bosId);
    m.int(42, spec.eosId);
    m.int(43, spec.padId);
  });
  w.message(3, (m) => {
    m.string(1, spec.normalizerName);
    m.bool(3, spec.addDummyPrefix);
    m.bool(4, spec.removeExtraWhitespaces);
    m.bool(5, spec.escapeWhitespaces);
  });
  return w.finish();
}
