// Where this build of the extension connects. The zip downloaded from a MeetPilot server has that
// server's address here; the copy in the repository points at a local `make run`.
self.MEETPILOT_CONFIG = {
  serverUrl: "http://127.0.0.1:8000",
};
