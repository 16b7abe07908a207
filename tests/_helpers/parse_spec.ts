// Parses the spec on stdin with lib/spec_parse.ts (the yaml package's Node build, as `deno run
// cli.ts` loads it) and prints the number of its manifests: tests/spec_test.ts runs it with and
// without env permission and with yaml's debug variables set.
import { parseSpec } from "../../lib/spec_parse.ts";

const text = await new Response(Deno.stdin.readable).text();
console.log(parseSpec(text, "spec.yaml").manifests.length);
