// Encodes an ONNX ModelProto without generating code at run time. protobufjs compiles its message constructors and
// coders with Function(), which a Content-Security-Policy without 'unsafe-eval' forbids — and the panel's webview,
// whose inference worker builds the stage graphs, runs under exactly such a policy. This walks the hand-written
// descriptor (onnx-descriptor.ts) with protobufjs's plain Writer and follows protobufjs's encoder rules for it: fields
// in id order, unset (null/undefined) fields and empty repeated fields skipped, repeated numbers packed —
// so its bytes equal encodeModel()'s (test/unit/runtime/formats/in-memory-load.test.ts checks).
import { Writer } from 'protobufjs/minimal';
import { ONNX_DESCRIPTOR, type ModelMsg } from './onnx-descriptor';

type Obj = Record<string, unknown>;

interface FieldDesc {
  type: string;
  id: number;
  rule?: string;
}
interface TypeDesc {
  fields?: Record<string, FieldDesc>;
  nested?: Record<string, TypeDesc>;
}

/** Wire type of each scalar type the descriptor uses. */
const WIRE: Record<string, number> = {
  double: 1,
  float: 5,
  int32: 0,
  int64: 0,
  uint64: 0,
  string: 2,
  bytes: 2,
};

/** Repeated fields of these types are packed, as protobufjs 7 writes them (and ONNX readers accept both). */
const PACKED = new Set(['double', 'float', 'int32', 'int64', 'uint64']);

const MAX_DEPTH = 100;

interface Resolved {
  name: string;
  id: number;
  repeated: boolean;
  /** The message type, or undefined for a scalar. */
  message?: Compiled;
  scalar?: string;
}
interface Compiled {
  fields: Resolved[];
}

/** Message types by their descriptor object, with fields resolved and sorted by id (built once). */
const compiled = new Map<TypeDesc, Compiled>();

/** Finds a type name from `scope` outwards (protobuf name resolution, relative names only). */
function lookup(name: string, scopes: TypeDesc[]): { type: TypeDesc; scopes: TypeDesc[] } {
  for (let i = scopes.length - 1; i >= 0; i--) {
    const hit = scopes[i].nested?.[name];
    if (hit) return { type: hit, scopes: [...scopes.slice(0, i + 1), hit] };
  }
  throw new Error(`onnx-encode: unknown type ${name}`);
}

function compile(type: TypeDesc, scopes: TypeDesc[]): Compiled {
  const hit = compiled.get(type);
  if (hit) return hit;
  const c: Compiled = { fields: [] };
  compiled.set(type, c); // before the fields: messages nest recursively (GraphProto in AttributeProto)
  for (const [name, f] of Object.entries(type.fields ?? {})) {
    const r: Resolved = { name, id: f.id, repeated: f.rule === 'repeated' };
    if (f.type in WIRE) r.scalar = f.type;
    else {
      const found = lookup(f.type, scopes);
      r.message = compile(found.type, found.scopes);
    }
    c.fields.push(r);
  }
  c.fields.sort((a, b) => a.id - b.id);
  return c;
}

function writeScalar(w: Writer, type: string, value: unknown): void {
  switch (type) {
    case 'string':
      w.string(String(value));
      return;
    case 'bytes':
      w.bytes(value as Uint8Array);
      return;
    case 'float':
      w.float(Number(value));
      return;
    case 'double':
      w.double(Number(value));
      return;
    case 'int32':
      w.int32(Number(value));
      return;
    case 'int64':
      w.int64(value as number);
      return;
    case 'uint64':
      w.uint64(value as number);
      return;
  }
}

function encodeInto(type: Compiled, msg: Obj, w: Writer, depth: number): void {
  if (depth > MAX_DEPTH) throw new Error('max depth exceeded');
  for (const f of type.fields) {
    const value = msg[f.name];
    if (value === null || value === undefined) continue;
    const one = (v: unknown) => {
      if (f.message) {
        w.uint32(((f.id << 3) | 2) >>> 0).fork();
        encodeInto(f.message, v as Obj, w, depth + 1);
        w.ldelim();
      } else {
        w.uint32(((f.id << 3) | WIRE[f.scalar!]) >>> 0);
        writeScalar(w, f.scalar!, v);
      }
    };
    if (!f.repeated) one(value);
    else if (f.scalar && PACKED.has(f.scalar)) {
      const list = value as unknown[];
      if (!list.length) continue;
      w.uint32(((f.id << 3) | 2) >>> 0).fork();
      for (const v of list) writeScalar(w, f.scalar, v);
      w.ldelim();
    } else for (const v of value as unknown[]) one(v);
  }
}

const onnx = (ONNX_DESCRIPTOR as { nested: Record<string, TypeDesc> }).nested.onnx;
const root: TypeDesc = { nested: { onnx } };

/** The bytes of an ONNX model, as encodeModel() writes them, without run-time code generation. */
export function encodeModelPlain(model: ModelMsg): Uint8Array {
  const modelProto = compile(onnx.nested!.ModelProto, [root, onnx, onnx.nested!.ModelProto]);
  const w = Writer.create();
  encodeInto(modelProto, model as unknown as Obj, w, 0);
  return w.finish();
}
