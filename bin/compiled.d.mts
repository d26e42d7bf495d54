/** Whether dist/ holds current compiled code (see compiled.mjs). root: URL of the package directory. */
export function compiledIsCurrent(root: URL): boolean;
