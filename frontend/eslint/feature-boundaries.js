// Import boundaries between the layers of src/ (a local ESLint rule).
//
//   features/X  may import its own files, components/, lib/, types/ and packages;
//               never another feature (features/Y) and never app/.
//   components/, lib/, types/  are shared: they import none of features/ or app/.
//   app/        composes features, through each feature's index.ts only.
//
// Imports are resolved to a path under src/ (the `@/` alias or a relative
// specifier), so `../../catalog/api` is caught as surely as `@/features/catalog`.
import path from 'node:path';

const SHARED = new Set(['components', 'lib', 'types']);

/** The layer of a path under src/: {layer, feature?, rest} or null outside src/. */
export function layerOf(srcDir, file) {
  const rel = path.relative(srcDir, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return null;
  const parts = rel.split(path.sep);
  const top = parts[0] ?? '';
  if (top === 'features' && parts.length >= 2) {
    return { layer: 'features', feature: parts[1], rest: parts.slice(2).join('/') };
  }
  if (top === 'app' || SHARED.has(top)) return { layer: top, rest: parts.slice(1).join('/') };
  return { layer: 'root', rest: rel };
}

/** Where an import specifier points, as an absolute path, or null for a package. */
export function resolveSpecifier(srcDir, fromFile, spec) {
  if (spec.startsWith('@/')) return path.join(srcDir, spec.slice(2));
  if (spec === '.' || spec === '..' || spec.startsWith('./') || spec.startsWith('../')) {
    return path.resolve(path.dirname(fromFile), spec);
  }
  return null;
}

/** The message id for an import from `from` to `to` that breaks a boundary, or null. */
export function violation(from, to) {
  if (to.layer === 'features') {
    if (from.layer === 'features' && from.feature !== to.feature) return 'crossFeature';
    if (SHARED.has(from.layer)) return 'sharedImportsFeature';
    if (from.layer === 'app' && to.rest !== '' && to.rest !== 'index' && to.rest !== 'index.ts') return 'featureInternals';
    return null;
  }
  if (to.layer === 'app') {
    if (from.layer === 'features') return 'featureImportsApp';
    if (SHARED.has(from.layer)) return 'sharedImportsApp';
  }
  return null;
}

/** @type {import('eslint').Rule.RuleModule} */
export const featureBoundaries = {
  meta: {
    type: 'problem',
    docs: { description: 'Features do not import each other; shared code does not import features or app/.' },
    schema: [
      {
        type: 'object',
        properties: { srcDir: { type: 'string' } },
        required: ['srcDir'],
        additionalProperties: false,
      },
    ],
    messages: {
      crossFeature:
        "feature '{{from}}' must not import feature '{{to}}': move the shared piece to components/, lib/ or types/, or compose the two in app/",
      sharedImportsFeature: "{{fromLayer}}/ is shared code and must not import feature '{{to}}'",
      sharedImportsApp: '{{fromLayer}}/ is shared code and must not import app/',
      featureImportsApp: "feature '{{from}}' must not import app/ (app/ composes features, not the other way round)",
      featureInternals: "import feature '{{to}}' through its index.ts (@/features/{{to}}), not its internals",
    },
  },
  create(context) {
    const srcDir = path.resolve(context.options[0].srcDir);
    const file = context.physicalFilename;
    const from = layerOf(srcDir, file);
    if (!from) return {};

    const check = (source) => {
      if (!source || source.type !== 'Literal' || typeof source.value !== 'string') return;
      const target = resolveSpecifier(srcDir, file, source.value);
      if (!target) return;
      const to = layerOf(srcDir, target);
      if (!to) return;
      const messageId = violation(from, to);
      if (!messageId) return;
      context.report({
        node: source,
        messageId,
        data: { from: from.feature ?? from.layer, to: to.feature ?? to.layer, fromLayer: from.layer },
      });
    };

    return {
      ImportDeclaration: (node) => check(node.source),
      ExportNamedDeclaration: (node) => check(node.source),
      ExportAllDeclaration: (node) => check(node.source),
      ImportExpression: (node) => check(node.source),
    };
  },
};

export default { rules: { 'feature-boundaries': featureBoundaries } };
