#!/usr/bin/env -S node --max-semi-space-size=2
/**
 * `kubectl pgdeck ...`: kubectl finds this file on PATH as `kubectl-pgdeck` and passes the words after
 * `pgdeck`; it is the same program as `pgdeck`, with the same commands and exit codes.
 */
import './main.js';
