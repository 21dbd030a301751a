// Baseline server for process apartments: raw child-process IPC request/reply over a channel that
// serializes by structured clone, the floor for any design over that channel. [id, a, b] → [id, a + b].
process.on('message', (msg: [number, number, number]) => {
  process.send!([msg[0], msg[1] + msg[2]]);
});
