package hrana

import (
	"encoding/json"
	"fmt"
	"reflect"
)

// FastDecodeAgrees reports an error when the fast response decoder
// accepts data but encoding/json rejects it or reads it differently.
func FastDecodeAgrees(data []byte) (accepted bool, err error) {
	var fast wPipelineResponse
	if !fastPipelineResponse(data, &fast) {
		return false, nil
	}
	var std wPipelineResponse
	if err := unmarshalObject(data, &std); err != nil {
		return true, fmt.Errorf("the fast path accepted what encoding/json rejects: %v", err)
	}
	if !reflect.DeepEqual(fast, std) {
		return true, fmt.Errorf("the fast path read\n%#v\nencoding/json read\n%#v", fast, std)
	}
	return true, nil
}

// DecodePipelineResponseStd decodes with encoding/json only.
func DecodePipelineResponseStd(data []byte) (*PipelineResponse, error) {
	var w wPipelineResponse
	if err := unmarshalObject(data, &w); err != nil {
		return nil, err
	}
	return w.convert()
}

// ValueFastAgrees reports an error when Value's fast path decodes data
// but the general path rejects it or reads it differently.
func ValueFastAgrees(data []byte) error {
	var fast Value
	if !fast.fastDecode(data) {
		return nil
	}
	var w wireValue
	if err := json.Unmarshal(data, &w); err != nil {
		return fmt.Errorf("fast path accepted %s, encoding/json rejects it: %v", data, err)
	}
	var general Value
	if err := general.UnmarshalJSON(data); err != nil {
		return fmt.Errorf("fast path accepted %s, the general path rejects it: %v", data, err)
	}
	if !reflect.DeepEqual(fast, general) {
		return fmt.Errorf("%s: fast %#v, general %#v", data, fast, general)
	}
	return nil
}
