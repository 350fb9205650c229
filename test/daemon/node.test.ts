// Runs the daemon conformance suite against car-server on node.
import { daemonConformance } from "./conformance.ts";

daemonConformance("node");
