// Runs the daemon conformance suite against car-server on bun.
import { daemonConformance } from "./conformance.ts";

daemonConformance("bun");
