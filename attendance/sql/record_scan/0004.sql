-- gatehouse_record_scan(): one check-in on Postgres in one statement, hence one round trip.
--
-- The rules are those of attendance.services.rules.decide(), which the embedded (SQLite) mode
-- and /batch use; tests/attendance/test_rule_parity.py runs both over the same cases and
-- fails if they ever disagree. What can live in Python stays there and comes in as
-- parameters: the refusal table (status, result, message), the statuses in good standing,
-- the event's window and the parts of the answer and of the outbox payload that do not
-- depend on the database.
--
-- Applied by attendance/migrations/0004_record_scan_one_document.py (0002 made the first
-- version). CREATE OR REPLACE: a change to this file needs a new migration that runs it again.
--
-- The call is one jsonb document (p_call, built by attendance.services.scan) and the refusal
-- table as text, read only when a scan is refused: the first version took 25 typed parameters,
-- which psycopg adapted one by one, and Postgres parsed the refusal table as jsonb every call.
--
-- Every statement in a VOLATILE function takes a fresh snapshot (READ COMMITTED), so the
-- reads after the participant lock see every scan committed by whoever held it before.
-- A replayed scanId is found by the INSERT's ON CONFLICT rather than by a read up front: the
-- first-time check-in, the common case, then pays one index probe less.
CREATE OR REPLACE FUNCTION gatehouse_record_scan(
    p_call jsonb,       -- see attendance.services.scan._call_document for its keys
    p_refusals text     -- {code: [http status, stored result, message]}, read only to refuse
) RETURNS TABLE (out_stored boolean, out_fingerprint text, out_status smallint, out_body text)
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    p_event_id bigint := (p_call ->> 'eventId')::bigint;
    p_device_gate_id bigint := (p_call ->> 'deviceGateId')::bigint;  -- NULL unless bound to one gate
    p_window_starts timestamptz := (p_call ->> 'windowStarts')::timestamptz;  -- start minus grace
    p_window_ends timestamptz := (p_call ->> 'windowEnds')::timestamptz;      -- end plus grace
    p_duplicate_window interval := make_interval(secs => (p_call ->> 'duplicateWindowSeconds')::double precision);
    p_gate_code text := p_call ->> 'gateCode';
    p_scan_id uuid := (p_call ->> 'scanId')::uuid;
    p_scanned_at timestamptz := (p_call ->> 'scannedAt')::timestamptz;
    p_direction text := p_call ->> 'direction';         -- NULL: the gate's (and the participant's) default
    p_participant_public_id uuid := (p_call ->> 'participantId')::uuid;  -- NULL when only a token was sent
    p_token text := p_call ->> 'token';                 -- normalised; NULL when only an id was sent
    p_lookup boolean := (p_call ->> 'lookup')::boolean; -- false: the sent token cannot belong to anyone
    p_fingerprint text := p_call ->> 'fingerprint';
    p_received_at timestamptz := (p_call ->> 'receivedAt')::timestamptz;
    v_participant_id bigint;
    v_public_id uuid;
    v_name text;
    v_status text;
    v_gate_id bigint;
    v_gate_direction text;
    v_gate_active boolean;
    v_inside boolean := false;
    v_duplicate boolean := false;
    v_direction text := coalesce(p_direction, 'entry');
    v_refusal text;
    v_http_status smallint;
    v_result text;
    v_body jsonb;
    v_refusal_row jsonb;
BEGIN
    IF (p_call ->> 'relaxedCommit')::boolean THEN
        -- Opt-in (CHECKIN_SYNCHRONOUS_COMMIT=false): see README, Benchmarks → Check-in.
        PERFORM set_config('synchronous_commit', 'off', true);
    END IF;

    -- Separate statements per lookup, so each keeps its own index plan once cached.
    IF p_lookup AND p_participant_public_id IS NOT NULL AND p_token IS NOT NULL THEN
        SELECT p.id, p.public_id, p.name, p.status INTO v_participant_id, v_public_id, v_name, v_status
        FROM participants_participant p
        WHERE p.public_id = p_participant_public_id AND p.token = p_token AND p.event_id = p_event_id
        FOR UPDATE;
    ELSIF p_lookup AND p_participant_public_id IS NOT NULL THEN
        SELECT p.id, p.public_id, p.name, p.status INTO v_participant_id, v_public_id, v_name, v_status
        FROM participants_participant p
        WHERE p.public_id = p_participant_public_id AND p.event_id = p_event_id
        FOR UPDATE;
    ELSIF p_lookup AND p_token IS NOT NULL THEN
        SELECT p.id, p.public_id, p.name, p.status INTO v_participant_id, v_public_id, v_name, v_status
        FROM participants_participant p
        WHERE p.token = p_token AND p.event_id = p_event_id
        FOR UPDATE;
    END IF;

    SELECT g.id, g.direction, g.is_active INTO v_gate_id, v_gate_direction, v_gate_active
    FROM gates_gate g WHERE g.event_id = p_event_id AND g.code = p_gate_code;

    IF v_participant_id IS NOT NULL THEN
        -- One pass over the participant's accepted scans: inside or outside (the latest by
        -- device time: offline scans arrive late) and a scan at this gate within the window.
        SELECT coalesce((array_agg(s.direction ORDER BY s.scanned_at DESC))[1] = 'entry', false),
               coalesce(bool_or(s.gate_id = v_gate_id
                                AND s.scanned_at > p_scanned_at - p_duplicate_window
                                AND s.scanned_at < p_scanned_at + p_duplicate_window), false)
        INTO v_inside, v_duplicate
        FROM attendance_scan s
        WHERE s.participant_id = v_participant_id AND s.result = 'accepted';
    END IF;

    IF v_gate_id IS NULL THEN
        v_refusal := 'gate_not_found';
    ELSIF p_device_gate_id IS NOT NULL AND p_device_gate_id <> v_gate_id THEN
        v_refusal := 'gate_not_allowed';
    ELSIF NOT v_gate_active THEN
        v_refusal := 'gate_inactive';
    ELSIF p_direction IS NULL THEN
        v_direction := CASE
            WHEN v_gate_direction = 'exit' THEN 'exit'
            WHEN v_gate_direction = 'both' AND v_inside THEN 'exit'
            ELSE 'entry'
        END;
    ELSIF v_gate_direction <> 'both' AND v_gate_direction <> p_direction THEN
        v_refusal := 'direction_not_allowed';
    END IF;

    IF v_refusal IS NULL THEN
        IF NOT (p_scanned_at BETWEEN p_window_starts AND p_window_ends) THEN
            v_refusal := 'outside_event_window';
        ELSIF v_participant_id IS NULL THEN
            v_refusal := 'participant_not_found';
        ELSIF NOT (p_call -> 'goodStanding' ? v_status) THEN
            v_refusal := 'participant_inactive';
        ELSIF v_duplicate THEN
            v_refusal := 'duplicate_scan';
        ELSIF v_direction = 'entry' AND NOT (p_call ->> 'allowMultipleCheckins')::boolean AND v_inside THEN
            v_refusal := 'already_checked_in';
        END IF;
    END IF;

    IF v_refusal IS NULL THEN
        v_http_status := 201;
        v_result := 'accepted';
        v_body := (p_call -> 'acceptedBody') || jsonb_build_object(
            'direction', v_direction,
            'participant', jsonb_build_object('id', v_public_id::text, 'name', v_name, 'status', v_status)
        );
    ELSE
        v_refusal_row := p_refusals::jsonb -> v_refusal;
        v_http_status := (v_refusal_row ->> 0)::smallint;
        v_result := v_refusal_row ->> 1;
        v_body := jsonb_build_object('error', jsonb_build_object(
            'code', v_refusal,
            'message', v_refusal_row ->> 2,
            'details', jsonb_build_object('scanId', p_scan_id::text, 'result', v_result)
        ));
    END IF;

    INSERT INTO attendance_scan (
        scan_id, event_id, participant_id, gate_id, device_id, scanned_at, received_at, method, direction,
        result, reason, location, device_info, request_fingerprint, response_status, response_body
    ) VALUES (
        p_scan_id, p_event_id, v_participant_id, v_gate_id, (p_call ->> 'deviceId')::bigint, p_scanned_at, p_received_at,
        p_call ->> 'method', v_direction, v_result, coalesce(v_refusal, ''), nullif(p_call -> 'location', 'null'), nullif(p_call -> 'deviceInfo', 'null'),
        p_fingerprint, v_http_status, v_body
    )
    ON CONFLICT (scan_id) DO NOTHING;
    IF NOT FOUND THEN
        -- This scanId is stored already (a replay, or a concurrent request that got there
        -- first): nothing is written, and the caller answers with the stored verdict.
        RETURN QUERY
            SELECT true, s.request_fingerprint::text, s.response_status::smallint, s.response_body::text
            FROM attendance_scan s WHERE s.scan_id = p_scan_id;
        RETURN;
    END IF;

    IF v_refusal IS NULL THEN
        INSERT INTO integrations_outboxevent (event_id, organization_id, topic, payload, created_at, attempts, last_error)
        VALUES (
            p_event_id, (p_call ->> 'organizationId')::bigint, 'attendance.recorded',
            (p_call -> 'outboxPayload') || jsonb_build_object('participantId', v_public_id::text, 'direction', v_direction),
            p_received_at, 0, ''
        );
    END IF;

    RETURN QUERY SELECT false, p_fingerprint, v_http_status, v_body::text;
END;
$$;
