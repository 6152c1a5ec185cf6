# Raw SOAP over curl for the harness self-tests: an independent client
# that shares no code with the simulator. Needs vcsim.sh's variables.
#
# SPDX-License-Identifier: BSD-3-Clause

# xml_escape STRING
xml_escape () {
    printf '%s' "$1" | sed -e 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g; s/"/\&quot;/g'
}

# xml_text TAG: print the text of every <TAG ...>text</TAG> on stdin, one a line.
xml_text () {
    grep -o "<$1[ >][^<]*</$1>\|<$1>[^<]*</$1>" | sed -e 's/<[^>]*>//g' \
        -e 's/&lt;/</g; s/&gt;/>/g; s/&quot;/"/g; s/&#39;/'"'"'/g; s/&amp;/\&/g'
}

SOAP_JAR=

# soap_call BODY: POST an envelope around BODY with the session cookie;
# prints the answer; fails unless HTTP 200.
soap_call () {
    local out code
    [ -n "$SOAP_JAR" ] || SOAP_JAR=$VCSIM_DIR/cookies
    out=$(curl -sS --cacert "$VCSIM_CAFILE" -b "$SOAP_JAR" -c "$SOAP_JAR" \
        -H 'Content-Type: text/xml; charset=utf-8' -H 'SOAPAction: urn:vim25/7.0' \
        -w '\n%{http_code}' --data-binary @- "https://$VCSIM_SERVER/sdk" <<END
<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>$1</soapenv:Body></soapenv:Envelope>
END
) || return 1
    code=${out##*$'\n'}
    printf '%s\n' "${out%$'\n'*}"
    [ "$code" = 200 ]
}

soap_login () {
    soap_call "<Login xmlns=\"urn:vim25\"><_this type=\"SessionManager\">SessionManager</_this><userName>$(xml_escape "${1-$VCSIM_USER}")</userName><password>$(xml_escape "${2-$VCSIM_PASSWORD}")</password></Login>"
}

soap_logout () {
    soap_call '<Logout xmlns="urn:vim25"><_this type="SessionManager">SessionManager</_this></Logout>'
}

# soap_props TYPE MOREF PATH: RetrievePropertiesEx of one property.
soap_props () {
    soap_call "<RetrievePropertiesEx xmlns=\"urn:vim25\"><_this type=\"PropertyCollector\">propertyCollector</_this><specSet><propSet><type>$1</type><pathSet>$3</pathSet></propSet><objectSet><obj type=\"$1\">$(xml_escape "$2")</obj></objectSet></specSet><options/></RetrievePropertiesEx>"
}

# soap_find PATH: print the moref FindByInventoryPath gives (empty if none).
soap_find () {
    soap_call "<FindByInventoryPath xmlns=\"urn:vim25\"><_this type=\"SearchIndex\">SearchIndex</_this><inventoryPath>$(xml_escape "$1")</inventoryPath></FindByInventoryPath>" | xml_text returnval
}

# soap_task_result TASKMOREF: wait for success and print info.result.
soap_task_result () {
    local i out
    for (( i = 0; i < 100; i++ )); do
        out=$(soap_props Task "$1" info)
        case $(xml_text state <<<"$out") in
            success) xml_text result <<<"$out"; return 0 ;;
            error) echo "task $1 failed: $out" >&2; return 1 ;;
        esac
        sleep 0.1
    done
    return 1
}

# soap_snapshot VMMOREF NAME: CreateSnapshot_Task; prints the snapshot moref.
soap_snapshot () {
    local task
    task=$(soap_call "<CreateSnapshot_Task xmlns=\"urn:vim25\"><_this type=\"VirtualMachine\">$(xml_escape "$1")</_this><name>$(xml_escape "$2")</name><memory>false</memory><quiesce>false</quiesce></CreateSnapshot_Task>" | xml_text returnval) || return 1
    soap_task_result "$task"
}

# soap_remove_snapshot SNAPMOREF: RemoveSnapshot_Task with consolidate.
soap_remove_snapshot () {
    local task
    task=$(soap_call "<RemoveSnapshot_Task xmlns=\"urn:vim25\"><_this type=\"VirtualMachineSnapshot\">$(xml_escape "$1")</_this><removeChildren>false</removeChildren><consolidate>true</consolidate></RemoveSnapshot_Task>" | xml_text returnval) || return 1
    soap_task_result "$task" >/dev/null
}

# soap_qcda VM SNAPSHOT KEY START CHANGEID: QueryChangedDiskAreas.
soap_qcda () {
    soap_call "<QueryChangedDiskAreas xmlns=\"urn:vim25\"><_this type=\"VirtualMachine\">$(xml_escape "$1")</_this><snapshot type=\"VirtualMachineSnapshot\">$(xml_escape "$2")</snapshot><deviceKey>$3</deviceKey><startOffset>$4</startOffset><changeId>$(xml_escape "$5")</changeId></QueryChangedDiskAreas>"
}

# folder_get URLPATH QUERY [curl args]: GET /folder with the session cookie;
# prints the HTTP status, the body goes where curl args say (-o FILE).
folder_get () {
    local p=$1 q=$2
    shift 2
    curl -sS --cacert "$VCSIM_CAFILE" -b "${SOAP_JAR:-$VCSIM_DIR/cookies}" \
        -w '%{http_code}' "$@" "https://$VCSIM_SERVER/folder/$p?$q"
}

# folder_query DCPATH DSNAME: the dcPath=&dsName= query, each value
# percent-encoded twice as vCenter wants.
folder_query () {
    printf 'dcPath=%s&dsName=%s\n' "$(vcsim_urlencode "$(vcsim_urlencode "$1")")" \
        "$(vcsim_urlencode "$(vcsim_urlencode "$2")")"
}

# fail MESSAGE: stop the test with a reason.
fail () {
    echo "FAIL: $*" >&2
    exit 1
}
