// SchemaCheck validates SOAP 1.1 messages against the XML Schema embedded in a
// WSDL, with the JDK's own validator: an independent reader of the contract.
//
// Usage: java SchemaCheck.java WSDL MESSAGE... [-- WSDL MESSAGE...]...
//
// For each message it checks the envelope (SOAP 1.1 Envelope, Body) and
// validates the Body's element, or for a soap:Fault the element in its detail,
// against the schema. It prints one line per message and exits 1 if any
// message is invalid.
import java.io.File;
import java.util.ArrayList;
import java.util.List;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.validation.Schema;
import javax.xml.validation.SchemaFactory;
import org.w3c.dom.Attr;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NamedNodeMap;
import org.w3c.dom.Node;

public class SchemaCheck {
    static final String SOAP = "http://schemas.xmlsoap.org/soap/envelope/";
    static final String XSD = "http://www.w3.org/2001/XMLSchema";
    static final String XMLNS = "http://www.w3.org/2000/xmlns/";

    public static void main(String[] args) throws Exception {
        DocumentBuilderFactory dbf = DocumentBuilderFactory.newInstance();
        dbf.setNamespaceAware(true);
        dbf.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        DocumentBuilder db = dbf.newDocumentBuilder();
        int failed = 0;
        List<String> group = new ArrayList<>();
        for (int i = 0; i <= args.length; i++) {
            if (i < args.length && !args[i].equals("--")) {
                group.add(args[i]);
                continue;
            }
            if (!group.isEmpty()) {
                failed += checkGroup(db, group);
            }
            group.clear();
        }
        System.exit(failed == 0 ? 0 : 1);
    }

    static int checkGroup(DocumentBuilder db, List<String> group) throws Exception {
        Schema schema = schemaOf(db.parse(new File(group.get(0))));
        int failed = 0;
        for (String path : group.subList(1, group.size())) {
            try {
                Element target = payload(db.parse(new File(path)));
                if (target != null) {
                    schema.newValidator().validate(new DOMSource(target));
                }
                System.out.println("ok " + path);
            } catch (Exception e) {
                failed++;
                System.out.println("INVALID " + path + ": " + e.getMessage());
            }
        }
        return failed;
    }

    // schemaOf compiles the WSDL's xsd:schema, giving it the namespace
    // declarations it inherits from wsdl:definitions.
    static Schema schemaOf(Document wsdl) throws Exception {
        Element schema = (Element) wsdl.getElementsByTagNameNS(XSD, "schema").item(0);
        NamedNodeMap attrs = wsdl.getDocumentElement().getAttributes();
        for (int i = 0; i < attrs.getLength(); i++) {
            Attr a = (Attr) attrs.item(i);
            if (XMLNS.equals(a.getNamespaceURI()) && !schema.hasAttributeNS(XMLNS, a.getLocalName())) {
                schema.setAttributeNS(XMLNS, a.getName(), a.getValue());
            }
        }
        return SchemaFactory.newInstance(XMLConstants.W3C_XML_SCHEMA_NS_URI).newSchema(new DOMSource(schema));
    }

    // payload returns the element to validate: the Body's child, or the
    // detail entry of a fault (null for a fault without detail).
    static Element payload(Document msg) {
        Element env = msg.getDocumentElement();
        if (!SOAP.equals(env.getNamespaceURI()) || !"Envelope".equals(env.getLocalName())) {
            throw new IllegalArgumentException("not a SOAP 1.1 Envelope");
        }
        Element body = null;
        for (Element e : children(env)) {
            if (SOAP.equals(e.getNamespaceURI()) && "Body".equals(e.getLocalName())) {
                body = e;
            }
        }
        if (body == null) {
            throw new IllegalArgumentException("no Body");
        }
        List<Element> content = children(body);
        if (content.size() != 1) {
            throw new IllegalArgumentException("Body holds " + content.size() + " elements, want 1");
        }
        Element el = content.get(0);
        if (!SOAP.equals(el.getNamespaceURI()) || !"Fault".equals(el.getLocalName())) {
            return el;
        }
        for (Element e : children(el)) {
            if (e.getNamespaceURI() == null && "detail".equals(e.getLocalName())) {
                List<Element> entries = children(e);
                if (entries.size() != 1) {
                    throw new IllegalArgumentException("detail holds " + entries.size() + " elements, want 1");
                }
                return entries.get(0);
            }
        }
        return null;
    }

    static List<Element> children(Element parent) {
        List<Element> out = new ArrayList<>();
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element) {
                out.add((Element) n);
            }
        }
        return out;
    }
}
