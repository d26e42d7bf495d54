// Whether dist/ holds the compiled code to run. An installed package has dist/ and no src/; a
// checkout has both, and dist/ counts only when the build that wrote it finished (dist/.build-stamp)
// after the last change under src/ (a file, or a directory whose entries changed).
import { existsSync, readdirSync, statSync } from 'node:fs';

function newerThan(dir, t) {
  if (statSync(dir).mtimeMs > t) return true;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = new URL(e.isDirectory() ? `${e.name}/` : e.name, dir);
    if (e.isDirectory() ? newerThan(p, t) : statSync(p).mtimeMs > t) return true;
  }
  return false;
}

/** root: URL of the package directory (ending in '/'). */
export function compiledIsCurrent(root) {
  const stamp = new URL('dist/.build-stamp', root);
  const src = new URL('src/', root);
  if (!existsSync(new URL('dist/cli/main.js', root))) return false;
  return !existsSync(src) || (existsSync(stamp) && !newerThan(src, statSync(stamp).mtimeMs));
}
