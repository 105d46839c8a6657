/**
 * Regenerates `proto/gen/<package>.ts` from the `.proto` files.
 * Run: `./denow task gen:proto`. The check `shared/proto/codegen_test.ts` fails
 * when the checked-in output differs from what this would write.
 * @module
 */
import { generateTypes, protoRoot } from "@eraft/shared/proto";

const outDir = new URL("../proto/gen/", import.meta.url);
Deno.mkdirSync(outDir, { recursive: true });
const generated = generateTypes(protoRoot);
for (const [pkg, source] of generated) {
  const path = new URL(`${pkg}.ts`, outDir);
  Deno.writeTextFileSync(path, source);
}
const fmt = new Deno.Command(Deno.execPath(), { args: ["fmt", "-q", outDir.pathname] })
  .outputSync();
if (!fmt.success) throw new Error(new TextDecoder().decode(fmt.stderr));
console.log(`wrote ${generated.size} files to proto/gen/`);
