package policy

import "errors"

// ErrDenied is wrapped by every refusal of AllowHost, AllowAddr and
// Control, so callers can map it to 403 AccessDenied with errors.Is.
var ErrDenied = errors.New("destination denied by policy")
