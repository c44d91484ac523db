package encap

// A FormatError reports that encapsulated pixel data is malformed (item
// headers, offset tables, fragments that do not make up the frames).
type FormatError string

// Error implements error.
func (e FormatError) Error() string { return "encap: " + string(e) }
