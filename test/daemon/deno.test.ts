// Runs the daemon conformance suite against car-server on deno.
import { daemonConformance } from "./conformance.ts";

daemonConformance("deno");
