package sr

import (
	"strconv"

	"github.com/suyashkumar/dicom/pkg/tag"

	"sscscore/model/dcmwrite"
)

// Relationship types and value types of content items (PS3.3 C.17.3).
const (
	relContains    = "CONTAINS"
	relConceptMod  = "HAS CONCEPT MOD"
	relObsContext  = "HAS OBS CONTEXT"
	relInferred    = "INFERRED FROM"
	vtContainer    = "CONTAINER"
	vtText         = "TEXT"
	vtCode         = "CODE"
	vtNum          = "NUM"
	vtUIDRef       = "UIDREF"
	vtImage        = "IMAGE"
	templateReport = "1500"
	templateGroup  = "1501"
)

// node is one content item of the document tree.
type node struct {
	rel, vt  string
	name     *Code
	value    []dcmwrite.Attr // the value's attributes (TextValue, ConceptCodeSequence...)
	template string          // TID of a container, "" for none
	kids     []*node
}

// item returns the node as a data set item (the root's attributes when rel
// is empty).
func (n *node) item() dcmwrite.Item {
	it := dcmwrite.Item{{Tag: tag.ValueType, Value: []string{n.vt}}}
	if n.rel != "" {
		it = append(it, dcmwrite.Attr{Tag: tag.RelationshipType, Value: []string{n.rel}})
	}
	if n.name != nil {
		it = append(it, dcmwrite.Attr{Tag: tag.ConceptNameCodeSequence, Value: []dcmwrite.Item{n.name.item()}})
	}
	if n.vt == vtContainer {
		it = append(it, dcmwrite.Attr{Tag: tag.ContinuityOfContent, Value: []string{"SEPARATE"}})
	}
	if n.template != "" {
		it = append(it, dcmwrite.Attr{Tag: tag.ContentTemplateSequence, Value: []dcmwrite.Item{{
			{Tag: tag.MappingResource, Value: []string{"DCMR"}},
			{Tag: tag.TemplateIdentifier, Value: []string{n.template}},
		}}})
	}
	it = append(it, n.value...)
	if len(n.kids) > 0 {
		items := make([]dcmwrite.Item, len(n.kids))
		for i, k := range n.kids {
			items[i] = k.item()
		}
		it = append(it, dcmwrite.Attr{Tag: tag.ContentSequence, Value: items})
	}
	return it
}

func container(rel string, name Code, kids ...*node) *node {
	return &node{rel: rel, vt: vtContainer, name: &name, kids: kids}
}

func text(rel string, name Code, v string) *node {
	return &node{rel: rel, vt: vtText, name: &name, value: []dcmwrite.Attr{{Tag: tag.TextValue, Value: []string{v}}}}
}

func codeNode(rel string, name, v Code) *node {
	return &node{rel: rel, vt: vtCode, name: &name, value: []dcmwrite.Attr{{Tag: tag.ConceptCodeSequence, Value: []dcmwrite.Item{v.item()}}}}
}

func uidRef(rel string, name Code, uid string) *node {
	return &node{rel: rel, vt: vtUIDRef, name: &name, value: []dcmwrite.Attr{{Tag: tag.UID, Value: []string{uid}}}}
}

// num is a NUM item: the value as a decimal string (at most 16 characters)
// and, exactly, as a 64-bit float (Floating Point Value).
func num(rel string, name Code, v float64, unit Code, kids ...*node) *node {
	mv := dcmwrite.Item{
		{Tag: tag.MeasurementUnitsCodeSequence, Value: []dcmwrite.Item{unit.item()}},
		{Tag: tag.NumericValue, Value: []string{dcmwrite.DS(v)}},
		{Tag: tag.FloatingPointValue, Value: []float64{v}},
	}
	return &node{rel: rel, vt: vtNum, name: &name, kids: kids,
		value: []dcmwrite.Attr{{Tag: tag.MeasuredValueSequence, Value: []dcmwrite.Item{mv}}}}
}

// Image is a reference to one image (or one frame of a multi-frame image).
type Image struct {
	SOPClassUID, SOPInstanceUID string
	// Frame is the 1-based frame number, 0 for the whole image.
	Frame int
}

func (im Image) refItem() dcmwrite.Item {
	it := dcmwrite.Item{
		{Tag: tag.ReferencedSOPClassUID, Value: []string{im.SOPClassUID}},
		{Tag: tag.ReferencedSOPInstanceUID, Value: []string{im.SOPInstanceUID}},
	}
	if im.Frame > 0 {
		it = append(it, dcmwrite.Attr{Tag: tag.ReferencedFrameNumber, Value: []string{strconv.Itoa(im.Frame)}})
	}
	return it
}

// image is an IMAGE item; name may be nil (an Image Library entry).
func image(rel string, name *Code, im Image) *node {
	return &node{rel: rel, vt: vtImage, name: name,
		value: []dcmwrite.Attr{{Tag: tag.ReferencedSOPSequence, Value: []dcmwrite.Item{im.refItem()}}}}
}
