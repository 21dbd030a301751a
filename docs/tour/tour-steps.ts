// Every step of the tour, in the order a newcomer should take them.
import type { TourStep } from './tour-step.js';
import { apartmentBuilding } from './steps/apartment-building.js';
import { oneChain } from './steps/one-chain.js';
import { lostDecrement } from './steps/lost-decrement.js';
import { roundRobinStep } from './steps/round-robin.js';
import { crashRestart } from './steps/crash-restart.js';
import { freeThreading } from './steps/free-threading.js';
import { scriptEngine } from './steps/script-engine.js';
import { wrongOrder } from './steps/wrong-order.js';
import { threadPerObject } from './steps/thread-per-object.js';
import { creation } from './steps/creation.js';
import { namedSync } from './steps/named-sync.js';
import { cacheRace } from './steps/cache-race.js';
import { rentalStep } from './steps/rental.js';
import { attachDetach } from './steps/attach-detach.js';
import { vmPool } from './steps/vm-pool.js';

export const TOUR_STEPS: readonly TourStep[] = [apartmentBuilding, oneChain, lostDecrement, freeThreading, rentalStep, roundRobinStep, threadPerObject, creation, attachDetach, scriptEngine, namedSync, cacheRace, vmPool, crashRestart, wrongOrder];
