import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

// The modules of packages/core/src form layers (facts → checks → report model → the rest; index.ts on
// top): no module imports, even only for its types, a module that imports it back. A circle through
// `import type` erases at run time but still ties the layers' types together, so it counts here too.

const SRC = fileURLToPath(new URL("../src/", import.meta.url));

/** Every specifier a file names: `import`, `import type`, `export … from`, `import("…")`, `require`. */
function specifiers(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, false);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    )
      found.push(node.moduleSpecifier.text);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const e = node.moduleReference.expression;
      if (ts.isStringLiteral(e)) found.push(e.text);
    } else if (
      ts.isImportTypeNode(node) &&
      ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteral(node.argument.literal)
    )
      found.push(node.argument.literal.text);
    else if (
      ts.isCallExpression(node) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword ||
        (ts.isIdentifier(node.expression) && node.expression.text === "require")) &&
      node.arguments[0] &&
      ts.isStringLiteralLike(node.arguments[0])
    )
      found.push(node.arguments[0].text);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The file a relative specifier names (a `.ts` file, or any other file such as JSON); throws when none. */
function resolveRelative(from: string, spec: string): string {
  const base = resolve(dirname(from), spec);
  const candidates = [base.replace(/\.js$/, ".ts"), `${base}.ts`, join(base, "index.ts"), base];
  const hit = candidates.find((c) => existsSync(c) && statSync(c).isFile());
  if (!hit) throw new Error(`${relative(SRC, from)}: cannot resolve "${spec}"`);
  return hit;
}

/** The import graph of packages/core/src: each module (path relative to src) → the src modules it names. */
function importGraph(): Map<string, string[]> {
  const files = readdirSync(SRC, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
    .map((f) => join(SRC, f))
    .sort();
  return new Map(
    files.map((file) => {
      const targets = specifiers(file)
        .filter((s) => s.startsWith("."))
        .map((s) => resolveRelative(file, s))
        .filter((t) => t.endsWith(".ts") && !relative(SRC, t).startsWith(".."));
      return [relative(SRC, file), [...new Set(targets.map((t) => relative(SRC, t)))].sort()];
    }),
  );
}

/** Every circle a depth-first walk closes (one per edge back to a module still on the walk's path). */
function cycles(graph: Map<string, string[]>): string[] {
  const done = new Set<string>();
  const path: string[] = [];
  const found: string[] = [];
  const walk = (m: string): void => {
    path.push(m);
    for (const next of graph.get(m) ?? []) {
      const at = path.indexOf(next);
      if (at >= 0) found.push([...path.slice(at), next].join(" → "));
      else if (!done.has(next)) walk(next);
    }
    path.pop();
    done.add(m);
  };
  for (const m of graph.keys()) if (!done.has(m)) walk(m);
  return found;
}

describe("the import graph of packages/core/src", () => {
  const graph = importGraph();

  it("sees every module and its type-only imports", () => {
    expect(graph.size).toBeGreaterThan(20);
    // checks/rule.ts names the facts' types only (`import type`): an edge all the same.
    expect(graph.get("checks/rule.ts")).toContain("facts.ts");
    // `export … from` is an edge too.
    expect(graph.get("index.ts")).toContain("report-model.ts");
  });

  it("has no cycle, counting `import type`", () => {
    expect(cycles(graph)).toEqual([]);
  });

  it("keeps the layers: the facts (and root.ts, devices.ts) below the checks", () => {
    const reach = (from: string): string[] => {
      const seen = new Set<string>();
      const visit = (m: string): void => {
        for (const next of graph.get(m) ?? []) {
          if (seen.has(next)) continue;
          seen.add(next);
          visit(next);
        }
      };
      visit(from);
      return [...seen].sort();
    };
    // The facts, and what the rules read beside them, import nothing of the check ids or the report.
    for (const m of ["facts.ts", "root.ts", "devices.ts"])
      expect(reach(m).filter((d) => d !== "report-registry.ts")).toEqual(m === "facts.ts" ? [] : ["facts.ts"]);
    // The checks (their ids included) read the facts, root.ts, devices.ts and the severities only.
    const below = ["devices.ts", "facts.ts", "report-registry.ts", "root.ts", "severity.ts"];
    expect(reach("checks/index.ts").filter((d) => !d.startsWith("checks/"))).toEqual(below);
  });

  it("finds a cycle when there is one", () => {
    const g = new Map([
      ["a.ts", ["b.ts"]],
      ["b.ts", ["c.ts"]],
      ["c.ts", ["a.ts"]],
      ["d.ts", ["a.ts"]],
    ]);
    expect(cycles(g)).toEqual(["a.ts → b.ts → c.ts → a.ts"]);
  });
});
