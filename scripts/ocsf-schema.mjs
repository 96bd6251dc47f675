#!/usr/bin/env node
// Compiles one OCSF event class, with the profiles it is emitted with, into ONE JSON Schema (draft-07),
// straight from the OCSF schema repository (github.com/ocsf/ocsf-schema) at a tag, read with git.
//
//   node scripts/ocsf-schema.mjs <ocsf-schema git dir> <tag> [--class compliance_finding] [--profiles cloud] [--out file]
//
// It follows what the OCSF server does when it compiles a schema (ocsf/ocsf-server: $include with
// profile annotation, `extends`, dictionary merge, class/category/type uids) and what its event
// validator checks:
// - required attributes → `required`; `constraints.at_least_one` / `just_one` → `anyOf` / `oneOf`;
// - dictionary types → JSON types (string_t and its subtypes → string, integer_t/long_t/timestamp_t →
//   integer, float_t → number, boolean_t → boolean, json_t → anything), with the types' `max_len`
//   (maxLength) and `range` (minimum/maximum), which the validator reports as errors (type regexes are
//   only warnings there, and are not emitted);
// - `enum` values of the attribute as compiled (the dictionary's values, e.g. 0 Unknown and 99 Other,
//   merged with the class's or object's own), `class_uid`, `category_uid` and `type_uid` fixed to the class;
// - objects referenced from the class, recursively, each under `definitions`; `is_array` → arrays;
// - an attribute that belongs to a profile exists only when that profile is applied, and the event must
//   declare the applied profiles in `metadata.profiles` (an OCSF validator reports an attribute of an
//   undeclared profile as unknown); `metadata.version` must be the schema's version;
// - no other attributes (`additionalProperties: false`): OCSF has no open-ended attributes except
//   attributes of type `object` such as `unmapped`, which stay open.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const usage =
  "usage: node scripts/ocsf-schema.mjs <ocsf-schema git dir> <tag> [--class compliance_finding] [--profiles cloud] [--out file]";

function parseArgs(argv) {
  const positional = [];
  const o = { class: "compliance_finding", profiles: "cloud", out: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--class" || a === "--profiles" || a === "--out") {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${usage}`);
      o[a.slice(2)] = v;
    } else if (a === "-h" || a === "--help") {
      console.log(usage);
      process.exit(0);
    } else positional.push(a);
  }
  if (positional.length !== 2) throw new Error(usage);
  const [gitDir, ref] = positional;
  return { gitDir, ref, ...o, profiles: o.profiles.split(",").filter(Boolean) };
}

const args = parseArgs(process.argv.slice(2));
const git = (...a) => execFileSync("git", ["--git-dir", args.gitDir, ...a], { encoding: "utf8", maxBuffer: 1 << 26 });

// A tag is preferred over a branch of the same name (ocsf-schema has both for some versions).
const tagRef = `refs/tags/${args.ref}`;
const ref = (() => {
  try {
    git("rev-parse", "--verify", "--quiet", `${tagRef}^{commit}`);
    return tagRef;
  } catch {
    return args.ref;
  }
})();
const commit = git("rev-parse", `${ref}^{commit}`).trim();
const files = new Set(git("ls-tree", "-r", "--name-only", commit).split("\n").filter(Boolean));

const jsonCache = new Map();
function readJson(p) {
  if (!jsonCache.has(p)) {
    if (!files.has(p)) throw new Error(`${p} is not in ${args.ref} (${commit})`);
    jsonCache.set(p, JSON.parse(git("show", `${commit}:${p}`)));
  }
  return structuredClone(jsonCache.get(p));
}

const isMap = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

/** Schema.Utils.deep_merge: maps merge recursively (an empty map yields to the other side); otherwise right wins. */
function deepMerge(left, right) {
  if (left == null) return right ?? null;
  if (right == null) return left;
  const out = { ...left };
  for (const [k, r] of Object.entries(right)) {
    const l = out[k];
    if (isMap(l) && isMap(r)) {
      if (Object.keys(l).length === 0) out[k] = r;
      else if (Object.keys(r).length === 0) out[k] = l;
      else out[k] = deepMerge(l, r);
    } else out[k] = r;
  }
  return out;
}

const INCLUDE = "$include";

/** An included file; a profile's attributes are annotated with the profile, and with the file's annotations. */
function readIncluded(file) {
  const data = readJson(file);
  const profile = data.meta === "profile" ? data.name : undefined;
  const attributes = {};
  for (const [name, attr] of Object.entries(data.attributes ?? {})) {
    const own = profile ? { ...attr, profile } : attr;
    attributes[name] = data.annotations ? deepMerge(data.annotations, own) : own;
  }
  return { ...data, attributes };
}

/** Resolves `$include` in the attributes (earlier files and the item's own definitions win) and in enums. */
function resolveIncludes(item) {
  const attrs = item.attributes;
  if (!attrs) return item;
  let merged = { ...attrs };
  const includes = attrs[INCLUDE];
  if (includes !== undefined) {
    delete merged[INCLUDE];
    for (const file of [includes].flat()) merged = deepMerge(readIncluded(file).attributes, merged);
  }
  for (const [name, attr] of Object.entries(merged)) {
    if (isMap(attr) && attr[INCLUDE] !== undefined) {
      const { [INCLUDE]: file, ...rest } = attr;
      merged[name] = deepMerge(readIncluded(file), rest);
    }
  }
  return { ...item, attributes: merged };
}

/** Loads every item of a directory (core schema only, no extensions), by name. */
function loadItems(dir) {
  const items = new Map();
  for (const f of files) {
    if (!f.startsWith(`${dir}/`) || !f.endsWith(".json")) continue;
    const item = resolveIncludes(readJson(f));
    if (item.name) items.set(item.name, item);
  }
  return items;
}

/** Resolves `extends` as the OCSF server does: attributes deep-merged, profiles concatenated, own keys win. */
function resolveExtends(items, name, seen = new Set()) {
  const item = items.get(name);
  if (!item) throw new Error(`unknown item ${name}`);
  if (!item.extends) return item;
  if (seen.has(name)) throw new Error(`extends cycle at ${name}`);
  seen.add(name);
  const base = resolveExtends(items, item.extends, seen);
  const attributes = Object.fromEntries(
    Object.entries(deepMerge(base.attributes ?? {}, item.attributes ?? {})).filter(([, a]) => a != null),
  );
  const out = { ...base };
  for (const [k, v] of Object.entries(item)) if (v != null) out[k] = v;
  out.profiles = [...new Set([...(base.profiles ?? []), ...(item.profiles ?? [])])];
  out.attributes = attributes;
  return out;
}

const version = readJson("version.json").version;
const dictionary = readJson("dictionary.json");
const types = dictionary.types.attributes;
const dictAttrs = dictionary.attributes;
const categories = readJson("categories.json").attributes;
const objects = loadItems("objects");
const events = loadItems("events");
const knownProfiles = [...files]
  .filter((f) => f.startsWith("profiles/") && f.endsWith(".json"))
  .map((f) => readJson(f).name)
  .sort();

for (const p of args.profiles) {
  if (!knownProfiles.includes(p)) throw new Error(`profile ${p} is not defined in ${args.ref}`);
  if (p === "datetime") throw new Error("the datetime profile (generated *_dt attributes) is not supported");
}
const applied = new Set(args.profiles);

/** Attributes merged over the dictionary's, without those of profiles not applied. */
function compileAttributes(attributes) {
  const out = {};
  for (const [name, attr] of Object.entries(attributes ?? {})) {
    if (!isMap(attr)) continue;
    const base = dictAttrs[name];
    if (!base) throw new Error(`attribute ${name} is not in the dictionary`);
    const merged = deepMerge(base, attr);
    if (merged.profile && !applied.has(merged.profile)) continue;
    out[name] = merged;
  }
  return out;
}

/** The dictionary type chain of a type, most specific first (e.g. timestamp_t, long_t). */
function typeChain(type) {
  const chain = [];
  for (let t = type; t; t = types[t]?.type) {
    if (!types[t]) throw new Error(`unknown type ${t}`);
    chain.push(t);
  }
  return chain;
}

const JSON_TYPES = {
  string_t: "string",
  integer_t: "integer",
  long_t: "integer",
  float_t: "number",
  boolean_t: "boolean",
};

const referenced = new Set();

function attributeSchema(name, attr) {
  let s;
  if (types[attr.type]) {
    const chain = typeChain(attr.type);
    const primitive = chain[chain.length - 1];
    s = { title: attr.caption };
    if (primitive !== "json_t") {
      const jsonType = JSON_TYPES[primitive];
      if (!jsonType) throw new Error(`attribute ${name}: no JSON type for ${primitive}`);
      s.type = jsonType;
    }
    const maxLen = chain.map((t) => types[t].max_len).find((v) => v !== undefined);
    if (maxLen !== undefined && s.type === "string") s.maxLength = maxLen;
    const range = chain.map((t) => types[t].range).find((v) => v !== undefined);
    if (range) [s.minimum, s.maximum] = range;
    if (attr.enum) {
      const keys = Object.keys(attr.enum);
      const values = s.type === "integer" ? keys.map(Number).sort((a, b) => a - b) : keys.sort();
      if (values.length === 1) s.const = values[0];
      else s.enum = values;
    }
  } else {
    if (!objects.has(attr.type)) throw new Error(`attribute ${name}: unknown type or object ${attr.type}`);
    referenced.add(attr.type);
    s = { title: attr.caption, $ref: `#/definitions/${attr.type}` };
  }
  if (attr.is_array) {
    const { title, ...items } = s;
    s = { title, type: "array", items };
  }
  return s;
}

/** properties, required and constraints of a class or an object. */
function structure(item, attributes, overrides = {}) {
  const atLeastOne = item.constraints?.at_least_one ?? [];
  const justOne = item.constraints?.just_one ?? [];
  const names = Object.keys(attributes).sort();
  const properties = {};
  for (const n of names) properties[n] = overrides[n] ?? attributeSchema(n, attributes[n]);
  const required = names.filter(
    (n) => attributes[n].requirement === "required" && !atLeastOne.includes(n) && !justOne.includes(n),
  );
  const s = { title: item.caption, type: "object" };
  if (names.length === 0) return s; // e.g. "object", the type of `unmapped`: anything goes.
  s.properties = properties;
  if (required.length > 0) s.required = required;
  s.additionalProperties = false;
  if (atLeastOne.length > 0) s.anyOf = atLeastOne.map((n) => ({ required: [n] }));
  if (justOne.length > 0)
    s.oneOf = justOne.map((n) => ({ required: [n], not: { required: justOne.filter((m) => m !== n) } }));
  return s;
}

// The class.
const cls = resolveExtends(events, args.class);
const category = categories[cls.category];
if (!category) throw new Error(`class ${args.class}: unknown category ${cls.category}`);
const classUid = category.uid * 1000 + cls.uid;
const attributes = compileAttributes(cls.attributes);
attributes.class_uid = { ...attributes.class_uid, enum: { [classUid]: { caption: cls.caption } } };
attributes.category_uid = { ...attributes.category_uid, enum: { [category.uid]: { caption: category.caption } } };
const activities = Object.keys(attributes.activity_id?.enum ?? {});
attributes.type_uid = {
  ...attributes.type_uid,
  enum: Object.fromEntries(
    [0, ...activities.map(Number)].map((a) => [classUid * 100 + a, { caption: `${cls.caption}: ${a}` }]),
  ),
};
if (!attributes.metadata) throw new Error(`class ${args.class} has no metadata`);

const metadataSchema = {
  allOf: [
    { $ref: "#/definitions/metadata" },
    {
      type: "object",
      required: ["version", ...(applied.size > 0 ? ["profiles"] : [])],
      properties: {
        version: { type: "string", const: version },
        profiles: {
          type: "array",
          items: { type: "string", enum: knownProfiles },
          ...(applied.size > 0 ? { allOf: [...applied].map((p) => ({ contains: { const: p } })) } : {}),
        },
      },
    },
  ],
};
referenced.add("metadata");

const profileTag = args.profiles.length > 0 ? args.profiles.join("+") : "no-profiles";
const classSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  $id: `https://schema.ocsf.io/${version}/classes/${args.class}?profiles=${args.profiles.join(",")}`,
  $comment: `Generated by scripts/ocsf-schema.mjs from github.com/ocsf/ocsf-schema ${args.ref} (commit ${commit}): class ${args.class} (${classUid}) with profiles [${args.profiles.join(", ")}]. Do not edit.`,
  ...structure(cls, attributes, { metadata: { title: attributes.metadata.caption, ...metadataSchema } }),
};

// Referenced objects, recursively.
const definitions = {};
const pending = [...referenced];
while (pending.length > 0) {
  const name = pending.pop();
  if (definitions[name]) continue;
  const obj = resolveExtends(objects, name);
  const before = new Set(referenced);
  definitions[name] = structure(obj, compileAttributes(obj.attributes));
  for (const r of referenced) if (!before.has(r)) pending.push(r);
}
classSchema.definitions = Object.fromEntries(
  Object.keys(definitions)
    .sort()
    .map((k) => [k, definitions[k]]),
);

const root = fileURLToPath(new URL("..", import.meta.url));
const out =
  args.out ?? path.join(root, "packages/render/schema/ocsf", `${version}-${args.class}-${profileTag}.schema.json`);
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(classSchema, null, 2)}\n`);
console.log(
  `${path.relative(process.cwd(), out)}: OCSF ${version} ${args.class} (${classUid}), profiles [${args.profiles.join(", ")}], ${Object.keys(definitions).length} objects, from ${args.ref} = ${commit}`,
);
