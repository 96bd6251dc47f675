import { Names, type Stack } from "aws-cdk-lib";
import { Construct, type IConstruct, RootConstruct } from "constructs";

/**
 * A logical ID is CloudFormation's identity of a resource: change it and the resource is deleted and
 * made again (a retained bucket, key or log group is orphaned instead, and the new one starts empty).
 * CDK makes it from the construct path below the stack (`Stack.allocateLogicalId` → `makeUniqueId`: the
 * path's ids, each "Default" left out, and a hash of them). The constructs of this folder were drawn
 * around resources deployed before they existed, so each one marks itself an *added level*, and a stack
 * that keeps its deployed IDs (CentralStack) makes each logical ID from the path without those levels —
 * with CDK's own makeUniqueId, as `Names.uniqueId` applies it to a construct at that path.
 *
 * One exception, CDK's own: a child with the id "Default" is its parent as far as IDs go (makeUniqueId
 * leaves "Default" out), so an added level's default child keeps the level's id. A `ScanFunction`
 * named `discover` holds its function as its default child: the function's logical ID is made from
 * `discover/Resource` as before, and so is every ID CDK derives from the function's path through
 * `Names.nodeUniqueId` (the IAM-event rule's permission to invoke Enforce), which no logical-ID override
 * reaches. Two resources that would get the same logical ID fail synth (CDK refuses a template with one
 * logical ID twice), and apps/infra/test/logical-ids.test.ts holds every deployed resource's ID.
 */
const ADDED_LEVELS = new WeakSet<IConstruct>();

/** Marks `level` (a construct of this folder, in its constructor) as a level added around deployed resources. */
export function markAddedLevel(level: IConstruct): void {
  ADDED_LEVELS.add(level);
}

/**
 * The path below `stack` that `element`'s logical ID is made from, without the added levels (an added
 * level's default child taking the level's id); `undefined` when no added level is on its path.
 */
export function pathWithoutAddedLevels(element: IConstruct, stack: Stack): string[] | undefined {
  const scopes = element.node.scopes;
  const below = scopes.slice(scopes.indexOf(stack) + 1);
  if (!below.some((scope) => ADDED_LEVELS.has(scope))) return undefined;
  return below.flatMap((scope, i) => {
    if (ADDED_LEVELS.has(scope)) return [];
    const parent = below[i - 1];
    return parent && ADDED_LEVELS.has(parent) && scope.node.id === "Default" ? [parent.node.id] : [scope.node.id];
  });
}

/** CDK's logical ID for a path below a stack: makeUniqueId, through `Names.uniqueId` of a construct at that path. */
export function logicalIdOf(path: string[]): string {
  let at: Construct = new RootConstruct();
  for (const id of path) at = new Construct(at, id);
  return Names.uniqueId(at);
}
