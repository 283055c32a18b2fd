package d1rest

import (
	"fmt"
	"strconv"
	"strings"
)

// ConfigError reports a Config that Open refuses.
type ConfigError struct {
	Field  string // the Config field
	Reason string
}

func (e *ConfigError) Error() string {
	return "forge/d1rest: Config." + e.Field + " " + e.Reason
}

// ValueError reports an argument the REST API cannot carry exactly, such
// as a []byte. Nothing is sent when an argument is refused.
type ValueError struct {
	Arg    int // 1-based position of the argument
	Value  any
	Reason string
}

func (e *ValueError) Error() string {
	return fmt.Sprintf("forge/d1rest: argument %d (%T): %s", e.Arg, e.Value, e.Reason)
}

// Message is one entry of the envelope's errors.
type Message struct {
	Code    int
	Message string
}

// APIError is a failure the API reported in its envelope (success: false):
// a SQL error, a bad token, an unknown database. A constraint violation is
// returned as a *driver.ConstraintError that wraps the *APIError.
type APIError struct {
	Status int // the HTTP status
	Errors []Message
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("forge/d1rest: HTTP ")
	b.WriteString(strconv.Itoa(e.Status))
	for i, m := range e.Errors {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		if m.Code != 0 {
			b.WriteString(strconv.Itoa(m.Code))
			b.WriteString(": ")
		}
		b.WriteString(m.Message)
	}
	return b.String()
}

// Code returns the code of the first error, or 0.
func (e *APIError) Code() int {
	if len(e.Errors) == 0 {
		return 0
	}
	return e.Errors[0].Code
}

// ResponseError reports a reply in Cloudflare's envelope whose content is
// not what the D1 REST API sends: a wrong shape, or a value the driver
// cannot read (a boolean, an object, a number beyond float64).
type ResponseError struct {
	Reason string
}

func (e *ResponseError) Error() string {
	return "forge/d1rest: unexpected response: " + e.Reason
}
